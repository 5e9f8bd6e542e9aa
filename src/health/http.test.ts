import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { healthHandler } from './http.js';
import { healthRegistry } from './registry.js';

let server: Server | undefined;

afterEach(async () => {
  if (server === undefined) return;
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
  server = undefined;
});

async function serve(listener: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('healthHandler (real node:http server)', () => {
  it('answers application/health+json: 200 for pass and warn, 503 for fail', async () => {
    const registry = healthRegistry();
    let status: 'pass' | 'warn' | 'fail' = 'pass';
    registry.register('db', () => ({ status, output: status === 'pass' ? undefined : 'down' }));
    registry.register('disk', () => true, { kinds: ['liveness'] });
    const ready = healthHandler(registry);
    const live = healthHandler(registry, { kind: 'liveness' });
    const url = await serve((request, response) => {
      void (request.url === '/live' ? live : ready)(request, response);
    });

    const first = await fetch(`${url}/ready`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/health+json');
    expect(first.headers.get('cache-control')).toBe('no-store');
    const body = (await first.json()) as { status: string; checks: Record<string, unknown[]> };
    expect(body.status).toBe('pass');
    expect(Object.keys(body.checks)).toEqual(['db']);

    status = 'warn';
    const warned = await fetch(`${url}/ready`);
    expect([warned.status, ((await warned.json()) as { status: string }).status]).toEqual([
      200,
      'warn',
    ]);

    status = 'fail';
    const failed = await fetch(`${url}/ready`);
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({
      status: 'fail',
      checks: { db: [{ output: 'down' }] },
    });

    const liveness = await fetch(`${url}/live`);
    expect([liveness.status, Object.keys(((await liveness.json()) as typeof body).checks)]).toEqual(
      [200, ['disk']],
    );

    registry.markNotReady('shutting down');
    status = 'pass';
    const draining = await fetch(`${url}/ready`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'fail', output: 'shutting down' });

    const head = await fetch(`${url}/ready`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([503, '']);
  });

  it('validates its kind', () => {
    expect(() => healthHandler(healthRegistry(), { kind: 'ready' as never })).toThrow(
      /healthHandler: option "kind"/,
    );
  });
});
