/**
 * The overload case's server: each request awaits one turn of the event loop (as a handler that
 * reads its body or a cache first does) and then keeps the CPU busy for a fixed time. The await
 * matters: it is what lets requests overlap, so that admission control can see more than one in
 * flight; a handler that never yields runs requests strictly one at a time.
 */
import http from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { close, listen, loadBulwark } from './common.mjs';

/** The shedder under test: a few requests at work, a short queue, CoDel and adaptive LIFO. */
export const shedderOptions = { limit: 4, queue: 8, lifo: true };

function busy(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: the request's CPU work
  }
}

function handlerOf(workMs) {
  return async (_req, res) => {
    await nextTurn();
    busy(workMs);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('done');
  };
}

async function serve(listener) {
  const server = http.createServer(listener);
  const port = await listen(server);
  return { port, close: () => close(server) };
}

export default [
  {
    id: 'unprotected',
    library: 'node:http',
    label: 'no admission control',
    make: ({ workMs }) => serve(handlerOf(workMs)),
  },
  {
    id: 'shedder',
    library: 'bulwark',
    label: `nodeHttpHandler with loadShedder(${JSON.stringify(shedderOptions).replaceAll('"', '')})`,
    make: async ({ workMs }) => {
      const { loadShedder, nodeHttpHandler } = await loadBulwark();
      return serve(nodeHttpHandler(handlerOf(workMs), { shedder: loadShedder(shedderOptions) }));
    },
  },
];
