import type { ApplicationFunction } from 'probot';
import { onIssueComment } from './handlers/on-issue-comment.js';
import { createServices } from './services.js';
import { loadSettings, type Settings } from './settings/load-settings.js';

/** Wires the webhook handlers to the pipelines; nothing else happens here. */
export function createApp(settings: Settings): ApplicationFunction {
  return (app) => {
    const services = createServices(settings);
    app.on('issue_comment.created', onIssueComment(services));
  };
}

const app: ApplicationFunction = (probot, options) => createApp(loadSettings(process.env))(probot, options);
export default app;
