/** What every HTTP benchmark server shares: the response, bulwark's build and its options. */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rootDir } from '../../lib/env.mjs';

/** The response body of every closed-loop case: small, so the tables show overhead. */
export const payload = { hello: 'world' };

/** bulwark's core and `bulwark/http`, from the build users get. */
export async function loadBulwark() {
  const dist = join(rootDir, 'dist');
  const [core, http] = await Promise.all([
    import(pathToFileURL(join(dist, 'index.mjs')).href),
    import(pathToFileURL(join(dist, 'adapters', 'http', 'index.mjs')).href),
  ]);
  return { ...core, ...http };
}

/**
 * The admission options the bulwark variants run with: a shedder and a rate limiter per client
 * address, both with room to spare, so no request is refused and only their cost shows.
 */
export function spareAdmission({ loadShedder, rateLimiter }) {
  return {
    shedder: loadShedder({ limit: 10_000 }),
    rateLimiter: rateLimiter({ limit: 1e9, intervalMs: 1000 }),
    keyOf: (req) => req.socket.remoteAddress ?? 'unknown',
  };
}

/** Limits of the peer rate limiters, as high as bulwark's above. */
export const spareRateLimit = { limit: 1e9, windowMs: 1000 };

/** Starts a node:http server on a free loopback port; resolves to its port. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** Closes a node:http server, dropping the load generator's idle keep-alive sockets. */
export function close(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
