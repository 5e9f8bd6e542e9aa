import { describe, expect, it } from 'vitest';
import { formatEndpoint, isLoopback, parseEndpoint } from './address.js';

describe('parseEndpoint', () => {
  it.each([
    ['127.0.0.1:6379', { host: '127.0.0.1', port: 6379 }],
    [':8474', { host: '127.0.0.1', port: 8474 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['[::1]:5432', { host: '::1', port: 5432 }],
    [6379, { host: '127.0.0.1', port: 6379 }],
    [
      { host: '::1', port: 1 },
      { host: '::1', port: 1 },
    ],
    [{ port: 2 }, { host: '127.0.0.1', port: 2 }],
  ])('reads %j', (value, endpoint) => {
    expect(parseEndpoint('upstream', value, false)).toEqual(endpoint);
  });

  it('allows port 0, or no port in an object, only where a free port makes sense', () => {
    expect(parseEndpoint('listen', { host: '127.0.0.1' }, true)).toEqual({
      host: '127.0.0.1',
      port: 0,
    });
    expect(parseEndpoint('listen', ':0', true)).toEqual({ host: '127.0.0.1', port: 0 });
    expect(() => parseEndpoint('upstream', ':0', false)).toThrow(
      `chaosProxy: option "upstream" must be 'host:port', ':port' or { host, port } with a port from 1 to 65535 (got ":0")`,
    );
  });

  it.each(['6379', 'redis', 'host:port', 'host:70000', '', null, [], { host: 1, port: 2 }])(
    'refuses %j',
    (value) => {
      expect(() => parseEndpoint('upstream', value, false)).toThrow(/option "upstream" must be/);
    },
  );
});

describe('formatEndpoint and isLoopback', () => {
  it('brackets IPv6 addresses', () => {
    expect(formatEndpoint({ host: '::1', port: 1 })).toBe('[::1]:1');
    expect(formatEndpoint({ host: '127.0.0.1', port: 1 })).toBe('127.0.0.1:1');
  });

  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST']) {
      expect(isLoopback(host)).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) {
      expect(isLoopback(host)).toBe(false);
    }
  });
});
