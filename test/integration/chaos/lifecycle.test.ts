import { EventEmitter, once } from 'node:events';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { chaosProxy } from '../../../src/chaos/index.js';
import {
  Cleanup,
  dial,
  get,
  openHandles,
  pattern,
  rejection,
  startEchoService,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Resolves with the error a fresh connection to `port` gets. */
async function connectError(port: number): Promise<NodeJS.ErrnoException> {
  const socket = connect(port, '127.0.0.1');
  const [error] = (await once(socket, 'error').catch((e: unknown) => [e])) as [
    NodeJS.ErrnoException,
  ];
  socket.destroy();
  return error;
}

describe('chaos proxy lifecycle', () => {
  it('a toxic added at run time applies to the next data of an open connection', async () => {
    const proxy = cleanup.proxy(await chaosProxy({ upstream: await startEchoService(cleanup) }));
    const client = await dial(proxy, cleanup);
    client.socket.write('a');
    await client.receive(1);
    proxy.addToxic({ type: 'latency', attributes: { latency: 300 } });
    const sent = performance.now();
    client.socket.write('b');
    await client.receive(2);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(290);
  });

  it('an updated toxic applies its new attributes to open connections', async () => {
    const proxy = cleanup.proxy(await chaosProxy({ upstream: await startEchoService(cleanup) }));
    proxy.addToxic({ name: 'lag', type: 'latency', stream: 'upstream' });
    const client = await dial(proxy, cleanup);
    proxy.updateToxic('lag', { attributes: { latency: 300 } });
    const sent = performance.now();
    client.socket.write('x');
    await client.receive(1);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(290);
  });

  it('carries megabytes intact through toxics, pausing a sender that gets too far ahead', async () => {
    const proxy = cleanup.proxy(
      await chaosProxy({
        upstream: await startEchoService(cleanup),
        toxics: [
          { type: 'latency', stream: 'upstream', attributes: { latency: 1, jitter: 1 } },
          { type: 'slicer', attributes: { average_size: 16_384, size_variation: 4096 } },
        ],
      }),
    );
    const client = await dial(proxy, cleanup);
    const data = pattern(4 * 1024 * 1024);
    client.socket.write(data);
    expect((await client.receive(data.length)).equals(data)).toBe(true);
  });

  it('a toxic removed at run time lets the data it held and new data through at once', async () => {
    const echoed = new EventEmitter();
    const upstream = await startEchoService(cleanup, () => echoed.emit('data'));
    const proxy = cleanup.proxy(await chaosProxy({ upstream }));
    const client = await dial(proxy, cleanup);
    proxy.addToxic({ type: 'latency', attributes: { latency: 10_000 } });
    const started = performance.now();
    client.socket.write('a');
    await once(echoed, 'data');
    proxy.removeToxic('latency_downstream');
    client.socket.write('b');
    expect((await client.receive(2)).toString()).toBe('ab');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('rolls each toxic once per connection against its toxicity', async () => {
    const draws = [0.3, 0.7];
    const proxy = cleanup.proxy(
      await chaosProxy({
        upstream: await startEchoService(cleanup),
        random: () => draws.shift() ?? 0,
        toxics: [{ type: 'reset_peer', toxicity: 0.5 }],
      }),
    );
    const first = await dial(proxy, cleanup);
    first.socket.write('doomed');
    await first.closed;
    expect(first.error?.code).toBe('ECONNRESET');
    const second = await dial(proxy, cleanup);
    second.socket.write('spared');
    expect((await second.receive(6)).toString()).toBe('spared');
  });

  it('disable refuses new connections and closes open ones; enable serves again', async () => {
    const proxy = cleanup.proxy(await chaosProxy({ upstream: await startEchoService(cleanup) }));
    const { port } = proxy.address;
    const open = await dial(proxy, cleanup);
    await proxy.disable();
    await open.closed;
    expect(proxy.enabled).toBe(false);
    expect(proxy.connections).toBe(0);
    expect((await connectError(port)).code).toBe('ECONNREFUSED');

    await proxy.enable();
    expect(proxy.address.port).toBe(port);
    const again = await dial(proxy, cleanup);
    again.socket.write('back');
    expect((await again.receive(4)).toString()).toBe('back');
  });

  it('closes the client connection when the upstream refuses', async () => {
    const vacant = await startEchoService(cleanup);
    await cleanup.run(); // nothing listens on that port any more
    const proxy = cleanup.proxy(await chaosProxy({ upstream: vacant }));
    const error = await rejection(get(proxy, '/'));
    expect(error.code).toBe('ECONNRESET');
  });

  it('close() leaves no server, socket or timer behind', async () => {
    const before = await openHandles();
    const proxy = await chaosProxy({ upstream: await startEchoService(cleanup) });
    proxy.addToxic({ type: 'latency', attributes: { latency: 10_000 } });
    proxy.addToxic({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 10_000 } });
    const client = await dial(proxy, cleanup);
    client.socket.write('never echoed in time');
    await fetch(`${proxy.controlUrl}/proxies`);
    await proxy.close();
    await client.closed;
    await cleanup.run();
    expect(await openHandles()).toEqual(before);
    expect((await connectError(proxy.address.port)).code).toBe('ECONNREFUSED');
    expect((await rejection<Error>(proxy.enable())).message).toMatch(/closed/);
  });
});
