import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOneOf, checkOptions } from '../core/validate.js';
import type { HealthRegistry } from './registry.js';
import { type ProbeKind, probeKinds } from './types.js';

/**
 * A node:http listener that answers one probe kind's report as application/health+json: 200
 * for pass and warn, 503 for fail (the draft maps pass/warn to 2xx, fail to 4xx-5xx). A HEAD
 * request gets the status and headers only.
 */
export function healthHandler(
  registry: HealthRegistry,
  options?: { kind?: ProbeKind },
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const o = checkOptions<{ kind: ProbeKind }>('healthHandler', options);
  const kind =
    o.kind === undefined ? 'readiness' : checkOneOf('healthHandler', 'kind', o.kind, probeKinds);
  return async (request, response) => {
    let body: string;
    let code: number;
    try {
      const report = await registry.run({ kind });
      body = JSON.stringify(report);
      code = report.status === 'fail' ? 503 : 200;
    } catch (error) {
      body = JSON.stringify({ status: 'fail', output: String(error) });
      code = 503;
    }
    response.writeHead(code, {
      'content-type': 'application/health+json',
      'cache-control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
