/** The comment commands of DESIGN §4, in the order the help text lists them. */
export const VERBS = ['revise', 'retry', 'stop', 'rebase', 'plan', 'go', 'merge', 'hold', 'status', 'help'] as const;
export type Verb = (typeof VERBS)[number];

export interface VerbInfo {
  usage: string;
  where: 'issue' | 'PR' | 'issue or PR' | 'anywhere';
  does: string;
  /** False until the pipeline behind the verb has landed; such verbs answer "not available yet". */
  available: boolean;
}

export const VERB_INFO: Record<Verb, VerbInfo> = {
  revise: { usage: '/agent revise <what to change>', where: 'PR', does: 'runs the agent again on the PR branch with your text as feedback', available: true },
  retry: { usage: '/agent retry', where: 'issue or PR', does: 'runs the task again from the base branch', available: true },
  stop: { usage: '/agent stop', where: 'issue or PR', does: 'cancels a queued or running job', available: true },
  rebase: { usage: '/agent rebase', where: 'PR', does: 'rebases the PR onto its base; the agent resolves conflicts', available: true },
  plan: { usage: '/agent plan', where: 'issue', does: 'posts a plan first; nothing is implemented until `/agent go`', available: true },
  go: { usage: '/agent go [guidance]', where: 'issue', does: 'implements the posted plan, with your guidance added', available: true },
  merge: { usage: '/agent merge', where: 'PR', does: 'puts the PR back in the merge order', available: true },
  hold: { usage: '/agent hold', where: 'PR', does: 'takes the PR out of the merge order', available: true },
  status: { usage: '/agent status', where: 'issue or PR', does: 'shows the state, queue position and last run', available: true },
  help: { usage: '/agent help', where: 'anywhere', does: 'shows this list', available: true },
};
