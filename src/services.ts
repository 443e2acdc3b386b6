import type { Settings } from './settings/load-settings.js';
import { MarkedComments } from './github/marked-comment.js';

/** What lives as long as the process and is shared by every handler. */
export interface Services {
  settings: Settings;
  comments: MarkedComments;
}

export function createServices(settings: Settings): Services {
  return { settings, comments: new MarkedComments() };
}
