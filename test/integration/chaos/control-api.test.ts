import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChaosProxy, chaosProxy } from '../../../src/chaos/index.js';
import { Cleanup, get, rejection, startHttpService } from './helpers.js';

/** The control API driven with fetch, as a Toxiproxy user would drive it. */
const cleanup = new Cleanup();
let proxy: ChaosProxy;
let upstream: string;

beforeEach(async () => {
  upstream = await startHttpService(cleanup);
  proxy = cleanup.proxy(await chaosProxy({ name: 'redis', upstream }));
});

afterEach(() => cleanup.run());

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${proxy.controlUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

const latency = {
  name: 'latency_downstream',
  type: 'latency',
  stream: 'downstream',
  toxicity: 1,
  attributes: { latency: 200, jitter: 0 },
};

describe('chaos proxy control API', () => {
  it('GET /proxies and /proxies/:name show the proxy in Toxiproxy shape', async () => {
    const shown = {
      name: 'redis',
      listen: `127.0.0.1:${proxy.address.port}`,
      upstream,
      enabled: true,
      toxics: [],
    };
    expect(await call('GET', '/proxies')).toMatchObject({ status: 200, json: { redis: shown } });
    expect(await call('GET', '/proxies/redis')).toMatchObject({ status: 200, json: shown });
    expect(await call('GET', '/proxies/nope')).toMatchObject({
      status: 404,
      json: { error: 'no such proxy: nope', status: 404 },
    });
  });

  it('POST /proxies/:name/toxics adds a toxic with its defaults filled in, and it acts', async () => {
    const added = await call('POST', '/proxies/redis/toxics', {
      type: 'latency',
      attributes: { latency: 200 },
    });
    expect(added).toMatchObject({ status: 200, json: latency });
    expect(await call('GET', '/proxies/redis/toxics')).toMatchObject({ json: [latency] });
    expect(await call('GET', '/proxies/redis/toxics/latency_downstream')).toMatchObject({
      json: latency,
    });
    expect(proxy.toxics()).toEqual([latency]);
    expect((await get(proxy, '/')).ms).toBeGreaterThanOrEqual(190);
  });

  it('answers 400 for a bad toxic, 409 for a taken name, 404 for an unknown one', async () => {
    const bad = await call('POST', '/proxies/redis/toxics', {
      type: 'latency',
      stream: 'sideways',
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ status: 400 });
    expect((bad.json as { error: string }).error).toContain('"stream"');
    const negative = await call('POST', '/proxies/redis/toxics', {
      type: 'bandwidth',
      attributes: { rate: -1 },
    });
    expect((negative.json as { error: string }).error).toContain('"rate"');
    expect((await call('POST', '/proxies/redis/toxics', { type: 'fire' })).status).toBe(400);
    expect((await call('POST', '/proxies/redis/toxics', '{not json')).status).toBe(400);

    expect((await call('POST', '/proxies/redis/toxics', { type: 'timeout' })).status).toBe(200);
    const again = await call('POST', '/proxies/redis/toxics', { type: 'timeout' });
    expect(again).toMatchObject({ status: 409, json: { status: 409 } });

    expect((await call('GET', '/proxies/redis/toxics/ghost')).status).toBe(404);
    expect((await call('DELETE', '/proxies/redis/toxics/ghost')).status).toBe(404);
    expect((await call('POST', '/proxies/redis/toxics/ghost', {})).status).toBe(404);
    expect((await call('GET', '/elsewhere')).status).toBe(404);
    expect((await call('POST', '/proxies/redis/toxics', 'x'.repeat(100_000))).status).toBe(413);
  });

  it('POST /proxies/:name/toxics/:toxic changes attributes; DELETE removes it', async () => {
    await call('POST', '/proxies/redis/toxics', { type: 'latency', attributes: { latency: 200 } });
    const updated = await call('POST', '/proxies/redis/toxics/latency_downstream', {
      attributes: { jitter: 50 },
      toxicity: 0.5,
    });
    expect(updated).toMatchObject({
      status: 200,
      json: { ...latency, toxicity: 0.5, attributes: { latency: 200, jitter: 50 } },
    });
    const retyped = await call('POST', '/proxies/redis/toxics/latency_downstream', {
      type: 'timeout',
    });
    expect(retyped.status).toBe(400);

    const removed = await call('DELETE', '/proxies/redis/toxics/latency_downstream');
    expect(removed).toMatchObject({ status: 204, json: undefined });
    expect(proxy.toxics()).toEqual([]);
  });

  it('POST /proxies/:name {enabled} takes the proxy down and back up', async () => {
    const down = await call('POST', '/proxies/redis', { enabled: false });
    expect(down).toMatchObject({ status: 200, json: { enabled: false } });
    const socket = connect(proxy.address.port, '127.0.0.1');
    const [error] = await once(socket, 'error').catch((e: unknown) => [e]);
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    const up = await call('POST', '/proxies/redis', { ...(down.json as object), enabled: true });
    expect(up).toMatchObject({ status: 200, json: { enabled: true } });
    expect((await get(proxy, '/')).body.toString()).toBe('ok');

    expect((await call('POST', '/proxies/redis', { enabled: 'yes' })).status).toBe(400);
    expect((await call('POST', '/proxies/redis', { upstream: 'elsewhere:1' })).status).toBe(400);
  });

  it('POST /reset enables the proxy and removes every toxic', async () => {
    proxy.addToxic({ type: 'reset_peer' });
    await proxy.disable();
    expect(await call('POST', '/reset')).toMatchObject({ status: 204 });
    expect(proxy.toJSON()).toMatchObject({ enabled: true, toxics: [] });
    expect((await get(proxy, '/')).body.toString()).toBe('ok');
  });

  it('answers 405 with Allow for a method a path does not take', async () => {
    const reply = await call('DELETE', '/proxies');
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET');
    expect((await call('GET', '/reset')).status).toBe(405);
  });

  it('the programmatic API checks toxics as the HTTP API does', () => {
    expect(() => proxy.addToxic({ type: 'slicer', attributes: { average_size: 0 } })).toThrow(
      /"average_size" must be an integer of bytes >= 1 \(got 0\)/,
    );
    proxy.addToxic({ type: 'slow_close' });
    expect(() => proxy.addToxic({ type: 'slow_close' })).toThrow(
      expect.objectContaining({ code: 'TOXIC_EXISTS' }),
    );
    expect(() => proxy.removeToxic('ghost')).toThrow(
      expect.objectContaining({ code: 'TOXIC_NOT_FOUND' }),
    );
  });

  it('refuses to listen off loopback unless allowRemote is set', async () => {
    const error = await rejection<TypeError>(chaosProxy({ upstream, control: '0.0.0.0:0' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/option "control" must be a loopback address/);
  });
});
