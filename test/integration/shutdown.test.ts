import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const fixture = join(import.meta.dirname, 'fixtures/shutdown-server.ts');

/** The fixture running as a child process, with its stdout lines as they come. */
interface Service {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly port: number;
  /** Resolves once a line matching `test` has been printed. */
  line(test: (line: string) => boolean): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function start(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['--import', loader, fixture], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    lines.push(text);
    for (const waiter of waiters.filter((w) => w.test(text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(text);
    }
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    at: performance.now(),
  }));
  const line = (test: (line: string) => boolean): Promise<string> => {
    const seen = lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ test, resolve }));
  };
  const listening = await Promise.race([
    line((l) => l.startsWith('listening ')),
    exited.then(() => {
      throw new Error('the fixture exited before listening');
    }),
  ]);
  return { child, lines, port: Number(listening.split(' ')[1]), line, exited };
}

type Outcome =
  | { kind: 'answered'; status: number; body: string }
  | { kind: 'cut'; status: number; body: string; error: string }
  | { kind: 'failed'; error: string };

/** One GET on a fresh connection; says how far it got. */
function get(port: number, path: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ kind: 'answered', status: response.statusCode!, body }));
      response.on('error', (error: NodeJS.ErrnoException) =>
        resolve({
          kind: 'cut',
          status: response.statusCode!,
          body,
          error: error.code ?? error.message,
        }),
      );
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ kind: 'failed', error: error.code ?? error.message }),
    );
    req.end();
  });
}

describe('graceful shutdown of a real process', () => {
  it('loses nothing in flight: every accepted request is answered in full, later ones are refused cleanly, exit 0 in time', async () => {
    const readinessDelayMs = 300;
    const drainTimeoutMs = 3000;
    const service = await start({
      READINESS_DELAY_MS: String(readinessDelayMs),
      DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
    });
    // A steady load, bounded in count and time: a request every 10 ms, each taking 200 ms.
    const calls: Promise<Outcome>[] = [];
    let stopped = false;
    void service.exited.then(() => {
      stopped = true;
    });
    const load = (async () => {
      for (let id = 0; id < 300 && !stopped; id++) {
        calls.push(get(service.port, `/work?id=${id}&ms=200`));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await service.line((l) => l === 'accepted 20');
    const killedAt = performance.now();
    service.child.kill('SIGTERM');
    const exit = await service.exited;
    await load;
    const outcomes = await Promise.all(calls);

    expect(exit.code).toBe(0);
    expect(exit.signal).toBe(null);
    expect(exit.at - killedAt).toBeLessThan(readinessDelayMs + drainTimeoutMs);
    const accepted = new Set(
      service.lines.filter((l) => l.startsWith('accepted ')).map((l) => Number(l.slice(9))),
    );
    outcomes.forEach((outcome, id) => {
      if (accepted.has(id)) {
        // Served in full (or, on a connection that outlived the close, refused with 503).
        if (outcome.kind === 'answered' && outcome.status === 200) {
          expect(outcome.body).toBe(`${id}:one;two;three`);
        } else expect(outcome).toMatchObject({ kind: 'answered', status: 503 });
      } else {
        // Never reached the handler: refused at the door, nothing half-done.
        expect(outcome.kind).toBe('failed');
        expect(['ECONNREFUSED', 'ECONNRESET']).toContain((outcome as { error: string }).error);
      }
    });
    expect(outcomes.some((o) => o.kind === 'failed' && o.error === 'ECONNREFUSED')).toBe(true);
    expect(accepted.size).toBeGreaterThan(20);
    const notReady = service.lines.indexOf('not-ready SIGTERM');
    expect(notReady).toBeGreaterThan(-1);
    expect(service.lines.slice(notReady).filter((l) => !l.startsWith('accepted '))).toEqual([
      'not-ready SIGTERM',
      'hook ran',
      'stopped 0',
    ]);
  });

  it('cuts a request that outlives the drain deadline, still runs the hook, and exits with 1', async () => {
    const service = await start({ READINESS_DELAY_MS: '0', DRAIN_TIMEOUT_MS: '500' });
    const hung = get(service.port, '/hang?id=1');
    await service.line((l) => l === 'accepted 1');
    service.child.kill('SIGTERM');
    const exit = await service.exited;
    expect(exit).toMatchObject({ code: 1, signal: null });
    expect(await hung).toMatchObject({ kind: 'failed', error: 'ECONNRESET' });
    expect(service.lines.slice(1)).toEqual([
      'accepted 1',
      'not-ready SIGTERM',
      'forced drain-timeout 1',
      'hook ran',
      'stopped 1',
    ]);
  });
});
