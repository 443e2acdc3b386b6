import { aiderPreset, parseAiderOutput } from './presets/aider.js';
import { claudePreset, claudeResult, parseClaudeOutput } from './presets/claude.js';
import { codexPreset, parseCodexOutput } from './presets/codex.js';
import { geminiPreset, parseGeminiOutput } from './presets/gemini.js';
import { lastJsonObject, shellQuote } from './presets/parse-output.js';
import type { CommandPreset, ParsedAgentOutput } from './presets/preset.js';

/** The agent CLIs with a ready-made command line and parser, one file each under presets/. */
export type CommandPresetName = 'claude' | 'codex' | 'gemini' | 'aider';

export const commandPresets: Record<CommandPresetName, CommandPreset> = {
  claude: claudePreset,
  codex: codexPreset,
  gemini: geminiPreset,
  aider: aiderPreset,
};

/** A custom command with no preset: a Claude-style JSON result on its last JSON line is used if there is one. */
export function parseGenericOutput(output: string): ParsedAgentOutput {
  const last = lastJsonObject(output, () => true);
  if (last && ('is_error' in last || 'result' in last || last.type === 'result')) return claudeResult(last);
  return { status: 'unknown', usage: {} };
}

export { parseAiderOutput, parseClaudeOutput, parseCodexOutput, parseGeminiOutput, shellQuote };
export type { CommandPreset, ParsedAgentOutput };
