import { configSchema, type RepoConfig } from './schema.js';

export interface ConfigProblem {
  /** Where in the file, as a dotted key path (`map.concurrency`), or `(file)` for the whole file. */
  path: string;
  message: string;
}

export type ConfigResult = { ok: true; config: RepoConfig } | { ok: false; problems: ConfigProblem[] };

/** Validates a parsed config file (or null for none) against the schema and fills in defaults. */
export function parseConfig(raw: unknown): ConfigResult {
  const parsed = configSchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(file)',
      message: issue.message,
    })),
  };
}
