import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { cache } from './index.js';

const TTL = 100;
const STALE_IF_ERROR = 50;
const keys = ['a', 'b', 'c'] as const;

type Op =
  | { readonly t: 'call'; readonly key: number; readonly signal: boolean }
  | { readonly t: 'abort'; readonly pick: number }
  | { readonly t: 'settle'; readonly key: number; readonly ok: boolean }
  | { readonly t: 'advance'; readonly ms: number }
  | { readonly t: 'delete'; readonly key: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('call' as const), key: fc.nat(2), signal: fc.boolean() }),
  fc.record({ t: fc.constant('abort' as const), pick: fc.nat() }),
  fc.record({ t: fc.constant('settle' as const), key: fc.nat(2), ok: fc.boolean() }),
  fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 150 }) }),
  fc.record({ t: fc.constant('delete' as const), key: fc.nat(2) }),
);

/** What a call has come to: still waiting, a value, or an error. */
type State = 'pending' | { readonly value: unknown } | { readonly error: unknown };

interface Upstream {
  readonly key: string;
  readonly signal: AbortSignal;
  resolve(value: number): void;
  reject(error: unknown): void;
  settled: boolean;
}

interface ModelFlight {
  readonly upstream: Upstream;
  readonly waiters: Set<number>;
  readonly stale: { readonly value: number; readonly freshUntil: number } | undefined;
}

describe('cache, against a model map with TTLs', () => {
  it('answers, shares calls, lets callers leave and forgets deleted keys exactly as the model says', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const clock = new VirtualClock();
        const policy = cache<number>({ ttlMs: TTL, staleIfErrorMs: STALE_IF_ERROR, clock });
        // The model: stored values with their freshness, the running call per key.
        const stored = new Map<string, { value: number; freshUntil: number }>();
        const flights = new Map<string, ModelFlight>();
        // Calls running for keys deleted meanwhile: they answer their callers, store nothing.
        const detached = new Set<ModelFlight>();
        const expected: State[] = [];
        const actual: State[] = [];
        const controllers: (AbortController | undefined)[] = [];
        const upstreams: Upstream[] = [];
        let nextValue = 0;

        const fn = ({ key, signal }: { key: string | undefined; signal: AbortSignal }) =>
          new Promise<number>((resolve, reject) => {
            upstreams.push({ key: key!, signal, resolve, reject, settled: false });
          });

        for (const step of ops) {
          const now = clock.now();
          if (step.t === 'call') {
            const key = keys[step.key]!;
            const id = expected.length;
            const controller = step.signal ? new AbortController() : undefined;
            controllers.push(controller);
            actual.push('pending');
            const calledBefore = upstreams.length;
            policy.execute(fn, { key, signal: controller?.signal }).then(
              (value) => {
                actual[id] = { value };
              },
              (error: unknown) => {
                actual[id] = { error };
              },
            );
            const entry = stored.get(key);
            if (entry !== undefined && now < entry.freshUntil) {
              expected.push({ value: entry.value });
              expect(upstreams.length).toBe(calledBefore);
            } else {
              expected.push('pending');
              const flight = flights.get(key);
              if (flight !== undefined) {
                flight.waiters.add(id);
                expect(upstreams.length).toBe(calledBefore);
              } else {
                expect(upstreams.length).toBe(calledBefore + 1);
                const usable =
                  entry !== undefined && now < entry.freshUntil + STALE_IF_ERROR
                    ? entry
                    : undefined;
                flights.set(key, {
                  upstream: upstreams.at(-1)!,
                  waiters: new Set([id]),
                  stale: usable === undefined ? undefined : { ...usable },
                });
              }
            }
          } else if (step.t === 'abort') {
            const live = controllers
              .map((c, id) => ({ c, id }))
              .filter(
                ({ c, id }) => c !== undefined && !c.signal.aborted && expected[id] === 'pending',
              );
            if (live.length === 0) continue;
            const { c, id } = live[step.pick % live.length]!;
            const reason = new Error(`caller ${id} left`);
            c!.abort(reason);
            expected[id] = { error: reason };
            for (const flight of [...flights.values(), ...detached]) {
              if (!flight.waiters.delete(id)) continue;
              if (flight.waiters.size === 0) {
                if (flights.get(flight.upstream.key) === flight)
                  flights.delete(flight.upstream.key);
                detached.delete(flight);
                expect(flight.upstream.signal.aborted).toBe(true);
                expect(flight.upstream.signal.reason).toBe(reason);
              } else {
                expect(flight.upstream.signal.aborted).toBe(false);
              }
            }
          } else if (step.t === 'settle') {
            const key = keys[step.key]!;
            const upstream = upstreams.find((u) => u.key === key && !u.settled);
            if (upstream === undefined) continue;
            upstream.settled = true;
            const flight = flights.get(key);
            const current = flight?.upstream === upstream ? flight : undefined;
            if (current !== undefined) flights.delete(key);
            const orphan = [...detached].find((f) => f.upstream === upstream);
            if (orphan !== undefined) detached.delete(orphan);
            const answering = current ?? orphan;
            if (step.ok) {
              const value = nextValue++;
              upstream.resolve(value);
              if (current !== undefined) stored.set(key, { value, freshUntil: now + TTL });
              if (answering !== undefined) {
                for (const id of answering.waiters) expected[id] = { value };
              }
            } else {
              const error = new Error(`upstream ${key} failed`);
              upstream.reject(error);
              if (answering !== undefined) {
                const stale = answering.stale;
                const rescued = stale !== undefined && now < stale.freshUntil + STALE_IF_ERROR;
                for (const id of answering.waiters) {
                  expected[id] = rescued ? { value: stale.value } : { error };
                }
              }
            }
          } else if (step.t === 'delete') {
            const key = keys[step.key]!;
            void policy.delete(key);
            stored.delete(key);
            const flight = flights.get(key);
            if (flight !== undefined) {
              flights.delete(key);
              detached.add(flight);
            }
          } else {
            await clock.advance(step.ms);
          }
          await new Promise((resolve) => setImmediate(resolve));
          expect(actual).toEqual(expected);
          expect(policy.inflight).toBe(flights.size);
        }
        // Everything still running ends; nobody is left listening, no timer is left.
        for (const upstream of upstreams) if (!upstream.settled) upstream.resolve(-1);
        await new Promise((resolve) => setImmediate(resolve));
        expect(actual.includes('pending')).toBe(false);
        for (const controller of controllers) {
          if (controller !== undefined) {
            expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
          }
        }
        expect(clock.pendingTimers).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });
});
