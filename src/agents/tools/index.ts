import { editFileTool } from './edit-file.js';
import { listFilesTool } from './list-files.js';
import { readFileTool } from './read-file.js';
import { runCommandTool } from './run-command.js';
import { searchTool } from './search.js';
import type { AgentTool } from './tool.js';
import { writeFileTool } from './write-file.js';

/** The built-in agent's tools, in the order the model sees them (`finish` is the agent's own). */
export function createTools(): AgentTool[] {
  return [listFilesTool, readFileTool, writeFileTool, editFileTool, searchTool, runCommandTool];
}
