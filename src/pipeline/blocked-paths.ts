import picomatch from 'picomatch';

/** The changed files that match one of the blocked patterns (dotfiles included). */
export function blockedPaths(changed: string[], patterns: string[]): string[] {
  if (patterns.length === 0) return [];
  const isBlocked = picomatch(patterns, { dot: true });
  return changed.filter((file) => isBlocked(file));
}
