/** Reading what agent CLIs print: JSON lines and token counts, never throwing. */

/** The last line of output that is a JSON object accepted by `accept` (or an array whose last such element is). */
export function lastJsonObject(output: string, accept: (o: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = (lines[i] ?? '').trim();
    if (line.startsWith('{')) {
      const object = parseObjectLine(line);
      if (object && accept(object)) return object;
    } else if (line.startsWith('[') && line.endsWith(']')) {
      let array: unknown;
      try {
        array = JSON.parse(line);
      } catch {
        continue;
      }
      if (!Array.isArray(array)) continue;
      for (let j = array.length - 1; j >= 0; j -= 1) {
        const element: unknown = array[j];
        if (isObject(element) && accept(element)) return element;
      }
    }
  }
  return undefined;
}

export function parseObjectLine(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Quotes a word for `sh`; words made only of safe characters are left as they are. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function tokenCount(text: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(text)?.[1];
  if (match === undefined) return undefined;
  const value = match.endsWith('k') ? Number(match.slice(0, -1)) * 1000 : Number(match);
  return Number.isFinite(value) ? Math.round(value) : undefined;
}
