import { issueOfKey } from '../jobs/job-key.js';
import type { JobWork } from '../jobs/job-queue.js';
import type { ProfileRecorder } from '../profile/profile-event.js';

/** Tells the profile how a job ended, as the service that ran it learns it. */
export function recordEnded(profile: ProfileRecorder, key: string, work: JobWork, outcome: { kind: string; reason?: string }): void {
  profile.record({ ...issueOfKey(key), type: 'ended', work, outcome: outcome.kind, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) });
}
