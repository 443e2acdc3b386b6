import { readFileSync } from 'node:fs';

export interface Secret {
  /** What to call it in a refusal: the variable's name, never its value. */
  name: string;
  value: string;
}

/** The deployment's variables that hold the app's own secrets. */
const SECRET_VARIABLES = ['PRIVATE_KEY', 'WEBHOOK_SECRET', 'ANTHROPIC_API_KEY', 'DASHBOARD_TOKEN', 'METRICS_TOKEN', 'GITHUB_CLIENT_SECRET', 'GITHUB_TOKEN'];

/** The app's own secrets, read once at start (Probot may remove PRIVATE_KEY from the environment later). */
export function appSecrets(env: NodeJS.ProcessEnv): Secret[] {
  const secrets: Secret[] = [];
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value) secrets.push({ name, value });
  }
  if (env.PRIVATE_KEY_PATH) {
    try {
      secrets.push({ name: 'PRIVATE_KEY_PATH', value: readFileSync(env.PRIVATE_KEY_PATH, 'utf8') });
    } catch {
      // Probot itself reports an unreadable key file
    }
  }
  return secrets;
}

/**
 * The names of the secrets that `text` (a patch about to be pushed) contains, plainly or in
 * base64 at any alignment, also when wrapped across added lines. A PEM key counts when any line
 * of its body appears, so a key copied with other line breaks is still found.
 */
export function findSecrets(text: string, secrets: readonly Secret[]): string[] {
  // added lines joined, so that base64 wrapped at 76 columns reads as one run
  const joined = text.replace(/\r?\n[+ ]?/g, '');
  const found = new Set<string>();
  for (const { name, value } of secrets) {
    if (needles(value).some((needle) => text.includes(needle) || joined.includes(needle))) found.add(name);
  }
  return [...found];
}

function needles(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed.length < 8) return [];
  const out = [trimmed];
  const pemBody = trimmed.split(/\r?\n/).filter((line) => line.length >= 40 && !line.startsWith('-----'));
  out.push(...pemBody);
  for (const part of [trimmed, ...pemBody]) {
    // base64 of the value starting at each of the three byte alignments, whole groups only
    for (let skip = 0; skip < 3; skip++) {
      const bytes = Buffer.from(part).subarray(skip);
      const whole = Math.floor(bytes.length / 3) * 3;
      const encoded = bytes.subarray(0, whole).toString('base64');
      if (encoded.length >= 16) out.push(encoded);
    }
  }
  return out;
}
