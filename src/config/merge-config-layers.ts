type Layer = Record<string, unknown>;

function isPlainObject(value: unknown): value is Layer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges config layers, base first: objects merge key by key, anything else (lists included) is
 * replaced by the later layer, so a repository's `allowedCommands` replaces its organisation's
 * rather than silently adding to it. The `_extends` key itself is dropped.
 */
export function mergeConfigLayers(layers: Layer[]): Layer {
  const merged: Layer = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (key === '_extends') continue;
      const current = merged[key];
      merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfigLayers([current, value]) : value;
    }
  }
  return merged;
}
