import { z } from 'zod';
import { DEFAULT_LABEL } from '../names.js';

/** The file each repository may hold, read with `_extends` support from an organisation's `.github`. */
export const CONFIG_PATH = '.github/agent-mapreduce.yml';

/** The app's credentials, and variables that change how processes or git behave, are never passed on. */
const neverPassed = new Set(['PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'WEBHOOK_SECRET', 'APP_ID', 'GITHUB_TOKEN', 'GH_TOKEN',
  'GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'WEBHOOK_PROXY_URL', 'HOME', 'PATH', 'SHELL', 'NODE_OPTIONS', 'BASH_ENV', 'ENV']);

function isAppSecretOrControl(name: string): boolean {
  const upper = name.toUpperCase();
  return neverPassed.has(upper) || /^(GIT_|LD_|DYLD_|NPM_CONFIG_)/.test(upper);
}

const commandList = z.array(z.string().trim().min(1, 'must not be empty'));

const mapSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(64).default(2)
    .describe('How many agents may run at once for this repository (the process-wide MAX_AGENTS also applies).'),
  baseBranch: z.string().trim().min(1).optional()
    .describe("The branch agent branches are cut from and PRs target; default: the repository's default branch."),
  setup: commandList.default([])
    .describe('Commands run in the worktree before the agent starts, e.g. "npm ci".'),
  allowedCommands: commandList.default([])
    .describe('Commands the built-in agent may run; an entry ending in " *" allows any arguments after its prefix.'),
  timeoutMinutes: z.number().positive().max(24 * 60).default(30)
    .describe('Wall-clock limit of one agent run, setup included.'),
  plan: z.boolean().default(false)
    .describe('Plan first: post a plan and implement only after a writer says /agent go.'),
  blockedPaths: z.array(z.string().trim().min(1)).default(['.github/workflows/**'])
    .describe('Glob patterns the agent may not change; a run that changes one is refused.'),
  priorityLabels: z.array(z.string().trim().min(1)).default(['agent:priority'])
    .describe('Issues with one of these labels are started before the others.'),
  statusComment: z.enum(['when-needed', 'always']).default('when-needed')
    .describe('when-needed: an issue shows progress with labels and its linked PR, and gets a comment only when a person must read or act; always: one status comment per issue, edited as the run goes.'),
  maxAwaitingReview: z.number().int().min(1).max(1000).optional()
    .describe('Pace the agents to the reviewers: no new agent run starts while this many agent PRs of its base branch (runs under way included) wait for their first review by a person; default: no limit.'),
});

const agentSchema = z.strictObject({
  kind: z.enum(['anthropic', 'command']).default('anthropic')
    .describe('anthropic: the built-in agent; command: an external agent CLI.'),
  model: z.string().trim().min(1).optional()
    .describe('Model for the built-in agent; default: the DEFAULT_MODEL of the deployment.'),
  maxTurns: z.number().int().min(1).max(1000).default(60).describe('Most model turns in one run.'),
  maxCostUsd: z.number().positive().max(1000).default(3).describe('Most US dollars one run may spend.'),
  maxTokens: z.number().int().positive().optional().describe('Most input plus output tokens in one run.'),
  maxIssueCostUsd: z.number().positive().max(100_000).optional()
    .describe('Most US dollars one issue may spend over all its runs (first run, revisions, rebases, CI fixes): the run that reaches it stops, and no further run starts; default: no limit.'),
  preset: z.enum(['claude', 'codex', 'gemini', 'aider']).optional()
    .describe('A ready-made command line for a known agent CLI (kind: command).'),
  command: z.string().trim().min(1).optional()
    .describe('The command line of an external agent (kind: command); {task_file} is replaced by a path.'),
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .refine((name) => !isAppSecretOrControl(name), 'is one of the app’s own secrets or controls how commands run, and is never passed to an agent'))
    .default([])
    .describe('Environment variables passed through to a command agent (for example its API key); nothing else is.'),
  prices: z.record(z.string(), z.strictObject({
    inputPerMTok: z.number().nonnegative(),
    outputPerMTok: z.number().nonnegative(),
    cacheReadPerMTok: z.number().nonnegative().optional(),
    cacheWritePerMTok: z.number().nonnegative().optional(),
  })).default({}).describe('Per-model prices in USD per million tokens, overriding the built-in table.'),
}).refine((a) => a.kind !== 'command' || a.command !== undefined || a.preset !== undefined, {
  message: 'kind: command needs a command or a preset',
  path: ['command'],
});

const reduceSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Merge approved agent PRs automatically.'),
  approvals: z.number().int().min(0).max(10).default(1).describe('Approvals from writers a PR needs.'),
  requireChecks: z.boolean().default(true).describe('Merge only when the head commit’s checks are green.'),
  mergeMethod: z.enum(['merge', 'squash', 'rebase']).default('squash').describe('How PRs are merged.'),
  batchSize: z.number().int().min(1).max(32).default(8)
    .describe('With requireChecks: how many approved PRs one merge train holds, tested by CI once; 1 rebases and tests each PR on its own.'),
  autoResolve: z.boolean().default(false).describe('On a conflict, let the agent rebase and resolve it.'),
  priorityLabels: z.array(z.string().trim().min(1)).default(['agent:priority'])
    .describe('PRs with one of these labels merge before the others.'),
  deleteBranch: z.boolean().default(true).describe('Delete the agent branch after the merge.'),
});

const reviseSchema = z.strictObject({
  maxCiRounds: z.number().int().min(0).max(20).default(2)
    .describe('How many times a red required check on an agent PR sends the agent back to fix it before it is left to people; 0: never.'),
});

export const configSchema = z.strictObject({
  label: z.string().trim().min(1).max(50).default(DEFAULT_LABEL).describe('The label that hands an issue to the agent.'),
  map: mapSchema.prefault({}),
  agent: agentSchema.prefault({}),
  reduce: reduceSchema.prefault({}),
  revise: reviseSchema.prefault({}),
});

export type RepoConfig = z.infer<typeof configSchema>;
