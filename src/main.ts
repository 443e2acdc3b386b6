/**
 * `npm start`: Probot's server with the app, on the app's own Octokit (github/app-octokit.ts), as
 * `probot run` would start it otherwise: settings from the environment and `.env`.
 */
import { run } from 'probot';
import app from './index.js';
import { AppOctokit } from './github/app-octokit.js';

await run(app, { Octokit: AppOctokit });
