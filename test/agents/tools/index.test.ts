import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { createTools } from '../../../src/agents/tools/index.js';

describe('createTools', () => {
  it('returns the tools in order, each with an object schema whose every field is described', () => {
    const tools = createTools();
    expect(tools.map((tool) => tool.name)).toEqual(['list_files', 'read_file', 'write_file', 'edit_file', 'search', 'run_command']);
    for (const tool of tools) {
      expect(tool.description.length).toBeGreaterThan(40);
      const schema = z.toJSONSchema(tool.input) as { type: string; properties: Record<string, { description?: string }> };
      expect(schema.type).toBe('object');
      for (const [field, property] of Object.entries(schema.properties)) {
        expect([tool.name, field, typeof property.description]).toEqual([tool.name, field, 'string']);
      }
    }
  });
});
