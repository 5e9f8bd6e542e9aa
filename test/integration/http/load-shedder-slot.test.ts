import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerPolicyOptions } from '../../../src/adapters/http/index.js';
import { loadShedder } from '../../../src/index.js';
import { adapters, call, eventually, gate, type Running, type TestHandler } from './harness.js';

// The server takes a load shedder's free slot without going through `execute`; these check
// that it is held and given back exactly as through `execute`.
describe.each(adapters)('a load shedder slot through $name', (adapter) => {
  const running: Running[] = [];

  afterEach(async () => {
    for (const server of running.splice(0)) await server.close();
  });

  async function start(options: ServerPolicyOptions, handler: TestHandler) {
    const server = await adapter.start(options, handler);
    running.push(server);
    return server;
  }

  it('is held until the response closes, queues and refuses the rest, and serves the queue next', async () => {
    const shedder = loadShedder({ limit: 1, queue: 1 });
    const entered = gate();
    const held = gate();
    const order: string[] = [];
    const { port } = await start({ shedder }, async (_context, path) => {
      order.push(path);
      if (path === '/hold') {
        entered.open();
        await held.promise;
      }
      return 'done';
    });
    const holding = call(port, '/hold');
    await entered.promise;
    expect(shedder.running).toBe(1);
    const queued = call(port, '/queued');
    await eventually(() => shedder.queued === 1, 'the request to queue');
    const refused = await call(port, '/refused');
    expect(refused.status).toBe(503);

    held.open();
    expect(await holding).toMatchObject({ status: 200, body: 'done' });
    expect(await queued).toMatchObject({ status: 200, body: 'done' });
    await eventually(() => shedder.running === 0, 'the slots to be released');
    expect(order).toEqual(['/hold', '/queued']);
    expect((await call(port, '/again')).status).toBe(200);
  });

  it('is given back, and the signal aborted, when the client disconnects', async () => {
    const shedder = loadShedder({ limit: 1 });
    const entered = gate();
    const aborted = gate();
    const { port } = await start({ shedder }, async (context) => {
      context.signal.addEventListener('abort', () => aborted.open());
      entered.open();
      await aborted.promise;
      return 'too late';
    });
    const client = request({ host: '127.0.0.1', port, path: '/slow', agent: false });
    client.on('error', () => {});
    client.end();
    await entered.promise;
    expect(shedder.running).toBe(1);
    client.destroy();
    await aborted.promise;
    await eventually(() => shedder.running === 0, 'the slot to be released');
  });
});
