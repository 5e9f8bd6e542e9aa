import { isIP } from 'node:net';
import { invalid } from '../../core/validate.js';

/** A TCP endpoint: a host name or IP address and a port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Where a host is left out. */
export const DEFAULT_HOST = '127.0.0.1';

/**
 * Reads an endpoint given as `{ host, port }`, a port number, `'host:port'`, `':port'` or
 * `'[::1]:port'`; a missing host is 127.0.0.1. With `freePort`, port 0 (any free port) is
 * allowed and is what a `{ host }` without a port means.
 */
export function parseEndpoint(option: string, value: unknown, freePort: boolean): Endpoint {
  const fail = (expected: string) => invalid('chaosProxy', option, value, expected);
  const expected = "'host:port', ':port' or { host, port }";
  const minPort = freePort ? 0 : 1;
  let host: unknown;
  let port: unknown;
  if (typeof value === 'number') {
    port = value;
  } else if (typeof value === 'string') {
    const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
    if (match === null) throw fail(expected);
    host = match[1] ?? match[2];
    port = Number(match[3]);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    ({ host, port } = value as { host?: unknown; port?: unknown });
    if (port === undefined && freePort) port = 0;
  } else {
    throw fail(expected);
  }
  if (host === undefined || host === '') host = DEFAULT_HOST;
  if (typeof host !== 'string') throw fail(`${expected} with a string host`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < minPort || port > 65_535) {
    throw fail(`${expected} with a port from ${minPort} to 65535`);
  }
  return { host, port };
}

/** `'127.0.0.1:8080'`, or `'[::1]:8080'` for an IPv6 address. */
export function formatEndpoint({ host, port }: Endpoint): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether `host` names this machine's loopback interface. */
export function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === '::1') return true;
  if (isIP(lower) === 4) return lower.startsWith('127.');
  return lower === '::ffff:127.0.0.1';
}
