import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the service does during one stretch of the run. */
export interface Phase {
  readonly label: string;
  /** Seconds since the run started at which this phase ends. */
  readonly untilS: number;
  /** Share of requests answered 503 after a few milliseconds. */
  readonly failRate: number;
  /** Share of requests that hang for `stallMs` before answering 200. */
  readonly stallRate: number;
}

export interface FlakyService {
  readonly url: string;
  /** Requests that reached the service since the last `startRun()`. */
  readonly received: number;
  /** Restarts the phase schedule and the request count. */
  startRun(): void;
  close(): Promise<void>;
}

/** A small deterministic generator, so every run of the demo sees the same failures. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A real HTTP service on loopback that is healthy, then struggles, then recovers, on a fixed
 * schedule: its 503s come back fast, its stalls hang a request for `stallMs`.
 */
export async function startFlakyService(
  phases: readonly Phase[],
  stallMs: number,
): Promise<FlakyService> {
  let startedAt = performance.now();
  let received = 0;
  let random = seeded(42);

  const server: Server = createServer((request, response) => {
    received++;
    const elapsedS = (performance.now() - startedAt) / 1_000;
    const phase = phases.find((p) => elapsedS < p.untilS) ?? phases[phases.length - 1]!;
    const roll = random();
    const answer = (status: number, body: object) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const delayMs =
      roll < phase.failRate ? 3 : roll < phase.failRate + phase.stallRate ? stallMs : 5 + roll * 10;
    const status = roll < phase.failRate ? 503 : 200;
    const timer = setTimeout(
      () => answer(status, { id: request.url, phase: phase.label }),
      delayMs,
    );
    // A client that gave up closes the connection; stop the timer so nothing lingers.
    response.on('close', () => clearTimeout(timer));
  });
  server.keepAliveTimeout = 1_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get received() {
      return received;
    },
    startRun() {
      startedAt = performance.now();
      received = 0;
      random = seeded(42);
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
