/** express 5 servers: bare, with `expressMiddleware`, and with express-rate-limit. */
import http from 'node:http';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { close, listen, loadBulwark, payload, spareAdmission, spareRateLimit } from './common.mjs';

async function serve(...middleware) {
  const app = express();
  for (const m of middleware) app.use(m);
  app.get('/', (_req, res) => {
    res.json(payload);
  });
  const server = http.createServer(app);
  const port = await listen(server);
  return { port, close: () => close(server) };
}

export default [
  { id: 'bare', library: 'express', label: 'express() with one route', make: () => serve() },
  {
    id: 'bulwark',
    library: 'bulwark',
    label: 'app.use(expressMiddleware({ shedder, rateLimiter, keyOf }))',
    make: async () => {
      const bulwark = await loadBulwark();
      return serve(bulwark.expressMiddleware(spareAdmission(bulwark)));
    },
  },
  {
    id: 'express-rate-limit',
    library: 'express-rate-limit',
    label: 'app.use(rateLimit({ limit: 1e9, windowMs: 1000 }))',
    make: () => serve(rateLimit(spareRateLimit)),
  },
];
