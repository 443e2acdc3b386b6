import type { AgentUsage } from '../agents/agent.js';
import type { IssueLife } from './issue-life.js';
import type { ReviewWait } from './view.js';

/**
 * What an event adds to the profile's series besides the issue's record: the Prometheus
 * observations (made only for events of this process's lifetime) and the dashboard's charts.
 */
export type Observation =
  | { kind: 'load' }
  | { kind: 'queue-wait'; work: string; seconds: number }
  | { kind: 'run'; work: string; outcome: string; seconds?: number }
  | { kind: 'usage'; repository: string; usage: AgentUsage }
  | { kind: 'review-wait'; wait: ReviewWait }
  | { kind: 'revision-turnaround'; seconds: number }
  | { kind: 'conflict'; repository: string }
  | { kind: 'merge'; repository: string; rounds: number; waitSeconds?: number }
  /** An issue's PR merged: its life from label to merge, split into phases. */
  | { kind: 'lead'; life: IssueLife }
  /** The agents' running time on one issue between two touches by a person. */
  | { kind: 'stretch'; ms: number };

/** A duration in ms as the metrics count it: seconds, never negative. */
export function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
