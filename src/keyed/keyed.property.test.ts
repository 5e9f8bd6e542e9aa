import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { VirtualClock } from '../testing/index.js';
import { keyed } from './index.js';

// Random sequences of calls that hang, calls that finish at once, get(), delete() and time
// passing, against the properties the keyed policy promises: a busy key keeps its one policy,
// in-flight counts are exact, the bound holds up to the busy keys, and idle keys go between
// idleMs and 2 * idleMs after their last use.

const maxKeys = 2;
const idleMs = 100;
const key = fc.constantFrom('a', 'b', 'c', 'd');
const command = fc.oneof(
  fc.record({ op: fc.constant('hang' as const), key }),
  fc.record({ op: fc.constant('quick' as const), key }),
  fc.record({ op: fc.constant('finish' as const), which: fc.nat() }),
  fc.record({ op: fc.constant('get' as const), key }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({
    op: fc.constant('advance' as const),
    ms: fc.constantFrom(1, 10, 40, 50, 60, 99, 100, 150),
  }),
);

interface Hanging {
  key: string;
  policy: unknown;
  release: () => void;
  done: Promise<unknown>;
  /** False once the key was deleted: a later policy for it is a new one, as asked. */
  counted: boolean;
}

type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

async function check(idle: boolean, commands: Command[]): Promise<void> {
  const clock = new VirtualClock();
  const perKey = keyed(() => bulkhead({ limit: 10 }), {
    maxKeys,
    clock,
    ...(idle ? { idleMs } : {}),
  });
  const hanging: Hanging[] = [];
  const lastActive = new Map<string, number>();
  const lastUse = new Map<string, number>();
  const busy = (k: string) => hanging.filter((h) => h.key === k && h.counted).length;
  const touch = (k: string) => {
    lastUse.set(k, clock.now());
    lastActive.set(k, clock.now());
  };
  // Listener errors surface on a fresh stack, outside the property: collect them instead.
  const wrongEvictions: string[] = [];
  perKey.on('evicted', ({ key: k, reason }) => {
    if (busy(k) > 0) wrongEvictions.push(`${k} evicted (${reason}) while busy`);
    if (reason === 'idle' && clock.now() - lastUse.get(k)! < idleMs) {
      wrongEvictions.push(
        `${k} evicted for idleness ${clock.now() - lastUse.get(k)!} ms after use`,
      );
    }
  });

  for (const step of commands) {
    let swept = false;
    switch (step.op) {
      case 'hang': {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const done = perKey.execute(() => gate, { key: step.key });
        touch(step.key);
        hanging.push({
          key: step.key,
          policy: perKey.peek(step.key),
          release,
          done,
          counted: true,
        });
        swept = true;
        break;
      }
      case 'quick':
        await perKey.execute(() => 1, { key: step.key });
        touch(step.key);
        swept = true;
        break;
      case 'finish': {
        if (hanging.length === 0) break;
        const [call] = hanging.splice(step.which % hanging.length, 1);
        call!.release();
        await call!.done;
        lastActive.set(call!.key, clock.now());
        break;
      }
      case 'get':
        perKey.get(step.key);
        touch(step.key);
        swept = true;
        break;
      case 'delete':
        perKey.delete(step.key);
        for (const h of hanging) if (h.key === step.key) h.counted = false;
        break;
      case 'advance':
        if (idle) await clock.advance(step.ms);
        break;
    }

    expect(wrongEvictions).toEqual([]);
    for (const h of hanging) if (h.counted) expect(perKey.peek(h.key)).toBe(h.policy);
    const busyKeys = new Set(hanging.filter((h) => h.counted).map((h) => h.key));
    for (const { key: k, inFlight } of perKey.entries()) expect(inFlight).toBe(busy(k));
    expect(perKey.size).toBeLessThanOrEqual(Math.max(maxKeys, busyKeys.size + 1));
    if (busyKeys.size === 0) expect(perKey.size).toBeLessThanOrEqual(maxKeys);
    if (idle && swept) {
      for (const { key: k, inFlight } of perKey.entries()) {
        if (inFlight === 0) expect(clock.now() - lastActive.get(k)!).toBeLessThan(2 * idleMs);
      }
    }
  }
  const rest = hanging.splice(0);
  for (const h of rest) h.release();
  await Promise.all(rest.map((h) => h.done));
  expect(wrongEvictions).toEqual([]);
  expect([...perKey.entries()].every((e) => e.inFlight === 0)).toBe(true);
}

describe('keyed: properties over random sequences of calls', () => {
  it('keeps one policy per busy key, exact counts and its bound (no idleMs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 60 }), (commands) => check(false, commands)),
      { numRuns: 500 },
    );
  });

  it('and drops idle keys between idleMs and 2 * idleMs after their last use', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 60 }), (commands) => check(true, commands)),
      { numRuns: 500 },
    );
  });
});
