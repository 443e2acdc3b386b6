import type { ProbotOctokit } from 'probot';
import type { GitHub, IssueComment, Permission } from './port.js';
import { UnreadableConfigError } from './port.js';
import { mergeConfigLayers } from '../config/merge-config-layers.js';

interface RestComment {
  id: number;
  body?: string | undefined;
  user: { login: string; type?: string } | null;
}

function toComment(c: RestComment): IssueComment {
  return { id: c.id, body: c.body ?? '', author: c.user?.login ?? '', authorIsBot: c.user?.type === 'Bot' };
}

const configPluginPrefix = '[@probot/octokit-plugin-config]';

export function createOctokitGitHub(octokit: ProbotOctokit, repository: { owner: string; repo: string }): GitHub {
  const { owner, repo } = repository;
  return {
    owner,
    repo,

    async readConfigFile(path) {
      try {
        const { files } = await octokit.config.get({ owner, repo, path });
        const layers = files.map((f) => f.config).filter((c): c is Record<string, unknown> => c !== null);
        return layers.length === 0 ? null : mergeConfigLayers(layers.reverse());
      } catch (error) {
        if (error instanceof Error && error.message.startsWith(configPluginPrefix)) {
          const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
          throw new UnreadableConfigError(error.message.slice(configPluginPrefix.length).trim() + cause);
        }
        throw error;
      }
    },

    async getPermission(login) {
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
        return (['admin', 'write', 'read'].includes(data.permission) ? data.permission : 'none') as Permission;
      } catch (error) {
        if ((error as { status?: number }).status === 404) return 'none';
        throw error;
      }
    },

    async listComments(issueNumber) {
      const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        owner, repo, issue_number: issueNumber, per_page: 100,
      });
      return comments.map(toComment);
    },

    async createComment(issueNumber, body) {
      const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
      return toComment(data);
    },

    async updateComment(commentId, body) {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: commentId, body });
    },
  };
}
