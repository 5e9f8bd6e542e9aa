/** node:http servers: bare, behind `nodeHttpHandler`, and with the request scope propagated. */
import http from 'node:http';
import { close, listen, loadBulwark, payload, spareAdmission } from './common.mjs';

function handler(_req, res) {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(payload));
}

async function serve(listener) {
  const server = http.createServer(listener);
  const port = await listen(server);
  return { port, close: () => close(server) };
}

async function guarded(propagate) {
  const bulwark = await loadBulwark();
  return serve(bulwark.nodeHttpHandler(handler, { ...spareAdmission(bulwark), propagate }));
}

export default [
  {
    id: 'bare',
    library: 'node:http',
    label: 'http.createServer(handler)',
    make: () => serve(handler),
  },
  {
    id: 'bulwark',
    library: 'bulwark',
    label: 'nodeHttpHandler(handler, { shedder, rateLimiter, keyOf })',
    make: () => guarded(false),
  },
  {
    id: 'bulwark-propagate',
    library: 'bulwark',
    label: 'the same with propagate: true (AsyncLocalStorage scope)',
    make: () => guarded(true),
  },
];
