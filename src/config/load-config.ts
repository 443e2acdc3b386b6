import type { GitHub } from '../github/port.js';
import { UnreadableConfigError } from '../github/port.js';
import { mergeConfigLayers } from './merge-config-layers.js';
import { parseConfig, type ConfigResult } from './parse-config.js';
import { CONFIG_PATH } from './schema.js';

/** Reads and validates the repository's config; a missing file gives the defaults. */
export async function loadConfig(github: GitHub): Promise<ConfigResult> {
  let raw: unknown;
  try {
    const layers = await github.readConfigLayers(CONFIG_PATH);
    raw = layers.length === 0 ? null : mergeConfigLayers(layers);
  } catch (error) {
    if (error instanceof UnreadableConfigError) return { ok: false, problems: [{ path: '(file)', message: error.message }] };
    throw error;
  }
  return parseConfig(raw);
}
