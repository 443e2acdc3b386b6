import type { GitHub } from '../github/port.js';
import type { Settings } from '../settings/load-settings.js';

/** The check run's Details link: the issue's run record on the dashboard, when it has a public address. */
export function runPageUrl(settings: Settings, github: GitHub, issueNumber: number): { detailsUrl?: string } {
  const base = settings.dashboard?.publicUrl;
  return base ? { detailsUrl: `${base}/runs/${github.owner}/${github.repo}/${issueNumber}` } : {};
}
