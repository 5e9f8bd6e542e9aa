import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChaosProxy, chaosProxy } from '../../../src/chaos/index.js';
import { Cleanup, rejection } from './helpers.js';

/** The proxy between pg and the PostgreSQL server on loopback (db test). Only SELECT 1. */
const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const cleanup = new Cleanup();
let proxy: ChaosProxy;
let client: pg.Client;

beforeEach(async () => {
  proxy = cleanup.proxy(
    await chaosProxy({
      name: 'postgres',
      upstream: `${databaseUrl.hostname}:${databaseUrl.port || 5432}`,
    }),
  );
  const through = new URL(databaseUrl);
  through.hostname = proxy.address.host;
  through.port = String(proxy.address.port);
  client = new pg.Client({ connectionString: through.href });
  client.on('error', () => {}); // the reset also reaches the client as an 'error' event
  cleanup.add(() => client.end().catch(() => {}));
  await client.connect();
});

afterEach(() => cleanup.run());

async function timeSelect(): Promise<number> {
  const started = performance.now();
  const { rows } = await client.query('SELECT 1 AS one');
  expect(rows).toEqual([{ one: 1 }]);
  return performance.now() - started;
}

describe('chaos proxy in front of PostgreSQL (pg)', () => {
  it('latency slows a SELECT 1 by the latency added', async () => {
    const base = Math.min(await timeSelect(), await timeSelect(), await timeSelect());
    proxy.addToxic({ type: 'latency', attributes: { latency: 200 } });
    expect((await timeSelect()) - base).toBeGreaterThanOrEqual(190);
  });

  it('reset_peer fails the query: the client sees the connection reset', async () => {
    proxy.addToxic({ type: 'reset_peer' });
    const error = await rejection<NodeJS.ErrnoException>(client.query('SELECT 1'));
    expect(error.code).toBe('ECONNRESET');
  });
});
