import { describe, expect, it } from '@jest/globals';
import type { Job, SchedulerEvent } from '../../src/jobs/job-queue.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { gate, type Gate } from '../support/gate.js';


/** A job that runs until its gate opens or it is aborted; records the order jobs started in. */
function job(key: string, started: string[], gates: Map<string, Gate>, overrides: Partial<Job> = {}): Job {
  const g = gate();
  gates.set(key, g);
  return {
    key,
    work: 'map',
    group: key.split('#')[0]!,
    groupCap: 10,
    priority: 0,
    since: 0,
    run: (signal) => {
      started.push(key);
      return new Promise<void>((resolve, reject) => {
        void g.promise.then(resolve);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    },
    ...overrides,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Scheduler', () => {
  it('never runs more than the global cap, and starts the next job as one finishes', async () => {
    const scheduler = new Scheduler({ globalCap: 2 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    for (const n of [1, 2, 3, 4]) scheduler.enqueue(job(`o/r#${n}`, started, gates));

    expect(started).toEqual(['o/r#1', 'o/r#2']);
    expect(scheduler.queuedKeys()).toEqual(['o/r#3', 'o/r#4']);
    expect(scheduler.position('o/r#4')).toBe(2);
    gates.get('o/r#1')!.open();
    await tick();
    expect(started).toEqual(['o/r#1', 'o/r#2', 'o/r#3']);
    for (const g of gates.values()) g.open();
    await scheduler.idle();
    expect(started).toHaveLength(4);
  });

  it('starts the next job once a running one releases its slot, and keeps the released one on its key until it returns', async () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    const releasing = gate();
    const first = job('o/r#1', started, gates);
    scheduler.enqueue({ ...first, run: async (signal, slot) => {
      const running = first.run(signal, slot);
      await releasing.promise;
      slot.release();
      slot.release(); // twice is once
      await running;
    } });
    scheduler.enqueue(job('o/r#2', started, gates));
    scheduler.enqueue(job('o/r#3', started, gates));
    await tick();
    expect(scheduler.queuedKeys()).toEqual(['o/r#2', 'o/r#3']);
    expect(scheduler.slotKeys()).toEqual(['o/r#1']);

    releasing.open();
    await tick();
    expect(started).toEqual(['o/r#1', 'o/r#2']); // one slot: #3 still waits
    expect(scheduler.slotKeys()).toEqual(['o/r#2']);
    expect(scheduler.state('o/r#1')).toBe('running');
    expect(scheduler.enqueue(job('o/r#1', [], new Map()))).toBe('already-running');
    gates.get('o/r#1')!.open();
    await tick();
    expect(started).toEqual(['o/r#1', 'o/r#2']); // #1's return frees nothing it still held
    for (const g of gates.values()) g.open();
    await scheduler.idle();
    expect(started).toEqual(['o/r#1', 'o/r#2', 'o/r#3']);
  });

  it('lets no more jobs finish after giving their slot back than there are slots', async () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    // each job gives its slot back at once, and then waits for its gate (a slow publish)
    const releasing = (key: string): Job => {
      const inner = job(key, started, gates);
      return { ...inner, run: (signal, slot) => {
        const running = inner.run(signal, slot);
        slot.release();
        return running;
      } };
    };
    for (const n of [1, 2, 3]) scheduler.enqueue(releasing(`o/r#${n}`));
    await tick();
    expect(started).toEqual(['o/r#1', 'o/r#2']); // #1 publishes while #2 works; #3 waits for one of them to end
    expect(scheduler.slotKeys()).toEqual([]);
    gates.get('o/r#1')!.open();
    await tick();
    expect(started).toEqual(['o/r#1', 'o/r#2', 'o/r#3']);
    for (const g of gates.values()) g.open();
    await scheduler.idle();
  });

  it('starts the next job ahead of its slot to get ready, and gives it the slot once one is free', async () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const log: string[] = [];
    const gates = new Map<string, Gate>();
    const preparing = (key: string): Job => ({
      key, work: 'map', group: 'o/r', groupCap: 10, priority: 0, since: 0, prepares: true,
      run: async (signal, slot) => {
        log.push(`${key} ready`);
        await slot.acquire();
        if (signal.aborted) return void log.push(`${key} cancelled`);
        log.push(`${key} agent`);
        const g = gate();
        gates.set(key, g);
        await g.promise;
        slot.release();
      },
    });
    for (const n of [1, 2, 3, 4]) scheduler.enqueue(preparing(`o/r#${n}`));
    await tick();
    // #2 got ready while #1's agent works; the others wait in the queue (one ready ahead per slot)
    expect([...log].sort()).toEqual(['o/r#1 agent', 'o/r#1 ready', 'o/r#2 ready']);
    expect(scheduler.slotKeys()).toEqual(['o/r#1']);
    expect(scheduler.queuedKeys()).toEqual(['o/r#3', 'o/r#4']);

    gates.get('o/r#1')!.open();
    await tick();
    expect(log.slice(3).sort()).toEqual(['o/r#2 agent', 'o/r#3 ready']);
    // cancelled while it waits for its slot: it goes on without one, to see that
    expect(scheduler.cancel('o/r#3')).toBe('aborted');
    await tick();
    expect(log.slice(5).sort()).toEqual(['o/r#3 cancelled', 'o/r#4 ready']);
    expect(scheduler.slotKeys()).toEqual(['o/r#2']);
    gates.get('o/r#2')!.open();
    await tick();
    expect(log.slice(7)).toEqual(['o/r#4 agent']);
    gates.get('o/r#4')!.open();
    await scheduler.idle();
  });

  it('readies only its share of a fleet\'s cap ahead of the fleet\'s slots', async () => {
    // the fleet's slots are beyond this process: the test gives them out
    const fleetSlot = new Map<string, () => void>();
    const scheduler = new Scheduler({
      globalCap: 16,
      exclusive: async (job, run, { slotWanted, slotTaken }) => {
        void slotWanted.then(() => fleetSlot.set(job.key, slotTaken));
        await run();
      },
    });
    scheduler.setReadyAhead(4);
    const log: string[] = [];
    const ready = new Map<string, Gate>();
    const preparing = (n: number): Job => ({
      key: `o/r${n}#1`, work: 'map', group: `o/r${n}`, groupCap: 2, priority: 0, since: n, prepares: true,
      run: async (_signal, slot) => {
        log.push(`${n} getting ready`);
        const g = gate();
        ready.set(`o/r${n}#1`, g);
        await g.promise;
        await slot.acquire();
        log.push(`${n} agent`);
        slot.release();
      },
    });
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) scheduler.enqueue(preparing(n));
    await tick();
    expect(log).toEqual(['1 getting ready', '2 getting ready', '3 getting ready', '4 getting ready']);

    // ready, they wait for slots of the fleet, and no more get ready meanwhile
    for (const n of [1, 2, 3, 4]) ready.get(`o/r${n}#1`)!.open();
    await tick();
    expect(log.slice(4)).toEqual([]);
    expect(scheduler.queuedKeys()).toEqual(['o/r5#1', 'o/r6#1', 'o/r7#1', 'o/r8#1']);

    // the fleet gives #1 its slot: its agent works, and #5 takes its place among those ready ahead
    fleetSlot.get('o/r1#1')!();
    await tick();
    expect(log.slice(4).sort()).toEqual(['1 agent', '5 getting ready']);

    // the whole cap again (a fleet of one): the rest get ready at once
    scheduler.setReadyAhead(undefined);
    await tick();
    expect(log.slice(6)).toEqual(['6 getting ready', '7 getting ready', '8 getting ready']);
    while (log.filter((line) => line.endsWith('agent')).length < 8) {
      for (const g of ready.values()) g.open();
      for (const give of fleetSlot.values()) give();
      await tick();
    }
    await scheduler.idle();
  });

  it('lets a job that waits for another process to finish its key hold no place here, then ask for a slot again', async () => {
    // an exclusive that makes the keys in `elsewhere` wait until the test lets them go (another process of the fleet runs them)
    const elsewhere = new Map<string, Gate>([['o/r#1', gate()], ['o/r#3', gate()]]);
    const scheduler = new Scheduler({
      globalCap: 1,
      exclusive: async (job, run, { slotWanted, slotTaken, parked }) => {
        const held = elsewhere.get(job.key);
        if (held) {
          parked(true);
          await held.promise;
          parked(false);
        }
        void slotWanted.then(slotTaken);
        await run();
      },
    });
    const log: string[] = [];
    const gates = new Map<string, Gate>();
    const working = (key: string, prepares: boolean, since: number): Job => ({
      key, work: prepares ? 'map' : 'revision', group: 'o/r', groupCap: 10, priority: 0, since, prepares,
      run: async (signal, slot) => {
        if (prepares) await slot.acquire();
        log.push(`${key} agent`);
        const g = gate();
        gates.set(key, g);
        await g.promise;
        slot.release();
      },
    });
    // #3 (which does not prepare: it starts with the one slot) and #1 (getting ready) wait for other processes
    scheduler.enqueue(working('o/r#3', false, 1));
    await tick();
    scheduler.enqueue(working('o/r#1', true, 2));
    await tick();
    scheduler.enqueue(working('o/r#2', true, 3));
    await tick();
    // neither holds a place while it waits: #2 got ready and took the slot
    expect(log).toEqual(['o/r#2 agent']);
    expect(scheduler.slotKeys()).toEqual(['o/r#2']);
    expect(scheduler.runningKeys().sort()).toEqual(['o/r#1', 'o/r#2', 'o/r#3']);

    // #1 and #3 may go on: they ask for the slot, first in line first, none while #2 holds it
    elsewhere.get('o/r#1')!.open();
    elsewhere.get('o/r#3')!.open();
    await tick();
    expect(log).toEqual(['o/r#2 agent']);
    gates.get('o/r#2')!.open();
    await tick();
    expect(log).toEqual(['o/r#2 agent', 'o/r#3 agent']);
    expect(scheduler.slotKeys()).toEqual(['o/r#3']);
    gates.get('o/r#3')!.open();
    await tick();
    expect(log).toEqual(['o/r#2 agent', 'o/r#3 agent', 'o/r#1 agent']);
    expect(scheduler.slotKeys()).toEqual(['o/r#1']);
    gates.get('o/r#1')!.open();
    await scheduler.idle();
  });

  it('holds a repository to its own cap while other repositories use the free slots', async () => {
    const scheduler = new Scheduler({ globalCap: 3 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    scheduler.enqueue(job('a/x#1', started, gates, { groupCap: 1 }));
    scheduler.enqueue(job('a/x#2', started, gates, { groupCap: 1 }));
    scheduler.enqueue(job('b/y#1', started, gates, { groupCap: 1 }));

    expect(started).toEqual(['a/x#1', 'b/y#1']);
    expect(scheduler.queuedKeys()).toEqual(['a/x#2']);
    for (const g of gates.values()) g.open();
    await scheduler.idle();
    expect(started).toEqual(['a/x#1', 'b/y#1', 'a/x#2']);
  });

  it('starts priority jobs first, then the earliest asked for', async () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    scheduler.enqueue(job('o/r#1', started, gates, { since: 1 }));
    scheduler.enqueue(job('o/r#late', started, gates, { since: 30 }));
    scheduler.enqueue(job('o/r#early', started, gates, { since: 20 }));
    scheduler.enqueue(job('o/r#urgent', started, gates, { since: 40, priority: 1 }));

    expect(scheduler.queuedKeys()).toEqual(['o/r#urgent', 'o/r#early', 'o/r#late']);
    for (const g of gates.values()) g.open();
    await scheduler.idle();
    expect(started).toEqual(['o/r#1', 'o/r#urgent', 'o/r#early', 'o/r#late']);
  });

  it('ignores a key that is already queued or running', () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    expect(scheduler.enqueue(job('o/r#1', started, gates))).toBe('queued');
    expect(scheduler.enqueue(job('o/r#2', started, gates))).toBe('queued');
    expect(scheduler.enqueue(job('o/r#1', [], new Map()))).toBe('already-running');
    expect(scheduler.enqueue(job('o/r#2', started, gates))).toBe('already-queued');
    expect(started).toEqual(['o/r#1']);
  });

  it('takes a queued job out, and aborts a running one and frees its slot once it stopped', async () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    const events: SchedulerEvent[] = [];
    scheduler.onEvent((e) => events.push(e));
    scheduler.enqueue(job('o/r#1', started, gates));
    scheduler.enqueue(job('o/r#2', started, gates));
    scheduler.enqueue(job('o/r#3', started, gates));

    expect(scheduler.cancel('o/r#2')).toBe('dequeued');
    expect(scheduler.cancel('o/r#1', 'label removed')).toBe('aborted');
    expect(scheduler.cancel('o/r#9')).toBe('not-found');
    await tick();
    expect(started).toEqual(['o/r#1', 'o/r#3']);
    const finished = events.find((e) => e.kind === 'finished' && e.key === 'o/r#1') as { error?: Error };
    expect(finished.error?.message).toBe('label removed');
  });

  it('runs a job asked for again while its cancelled run winds down, once that run has stopped', async () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    scheduler.enqueue(job('o/r#1', started, gates));
    scheduler.cancel('o/r#1');
    expect(scheduler.enqueue(job('o/r#1', started, gates))).toBe('queued');
    await tick();
    expect(started).toEqual(['o/r#1', 'o/r#1']);
    expect(scheduler.state('o/r#1')).toBe('running');
  });

  it('keeps going when a job throws', async () => {
    const scheduler = new Scheduler({ globalCap: 1 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    scheduler.enqueue({ ...job('o/r#1', started, gates), run: async () => { throw new Error('boom'); } });
    scheduler.enqueue(job('o/r#2', started, gates));
    await tick();
    expect(started).toEqual(['o/r#2']);
  });

  it('starts fewer jobs when the cap is lowered, and more when it is raised again', async () => {
    const scheduler = new Scheduler({ globalCap: 2 });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    scheduler.setGlobalCap(1);
    for (const n of [1, 2, 3]) scheduler.enqueue(job(`o/r#${n}`, started, gates));
    expect(started).toEqual(['o/r#1']);
    scheduler.setGlobalCap(3);
    expect(started).toEqual(['o/r#1', 'o/r#2', 'o/r#3']);
  });
});
