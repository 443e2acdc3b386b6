import { describe, expect, it } from '@jest/globals';
import { KeyedMutex } from '../../src/git/keyed-mutex.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('runs sections of one key one at a time in arrival order, even when one fails', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const section = (name: string, fail = false) => mutex.run('octo/app', async () => {
      events.push(`${name} start`);
      await tick();
      events.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    });

    const results = await Promise.allSettled([section('a'), section('b', true), section('c')]);

    expect(events).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('lets different keys overlap', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const section = (key: string) => mutex.run(key, async () => {
      events.push(`${key} start`);
      await tick();
      events.push(`${key} end`);
    });

    await Promise.all([section('one'), section('two')]);

    expect(events).toEqual(['one start', 'two start', 'one end', 'two end']);
  });
});
