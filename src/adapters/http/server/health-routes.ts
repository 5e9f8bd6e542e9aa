import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalid } from '../../../core/validate.js';
import type { HealthRegistry } from '../../../health/registry.js';
import { type HealthReport, type HealthStatus, probeKinds } from '../../../health/types.js';
import type { Answer } from './answers.js';
import { checkHealthPaths, type HealthPaths, type HealthRoute } from './options.js';

const rank: Readonly<Record<HealthStatus, number>> = { pass: 0, warn: 1, fail: 2 };

/** Every probe kind's checks in one report, its status the worst of theirs. */
async function fullReport(registry: HealthRegistry): Promise<HealthReport> {
  const reports = await Promise.all(probeKinds.map((kind) => registry.run({ kind })));
  let status: HealthStatus = 'pass';
  let output: string | undefined;
  const checks: Record<string, HealthReport['checks'][string]> = {};
  for (const report of reports) {
    if (rank[report.status] > rank[status]) status = report.status;
    output ??= report.output;
    Object.assign(checks, report.checks);
  }
  return output === undefined ? { status, checks } : { status, output, checks };
}

/**
 * A health route's report as application/health+json: 200 for pass and warn, 503 for fail
 * (and for a registry that throws).
 */
export async function healthAnswer(registry: HealthRegistry, route: HealthRoute): Promise<Answer> {
  let body: string;
  let status: number;
  try {
    const report =
      route === 'health' ? await fullReport(registry) : await registry.run({ kind: route });
    body = JSON.stringify(report);
    status = report.status === 'fail' ? 503 : 200;
  } catch (error) {
    body = JSON.stringify({ status: 'fail', output: String(error) });
    status = 503;
  }
  return {
    status,
    headers: { 'content-type': 'application/health+json', 'cache-control': 'no-store' },
    body,
  };
}

/** The health route a request's URL asks for, if any. */
export function healthRouteOf(
  routes: ReadonlyMap<string, HealthRoute>,
  url: string | undefined,
): HealthRoute | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf('?');
  return routes.get(query === -1 ? url : url.slice(0, query));
}

/** Sends an answer on a raw response (HEAD gets the status and headers only: node:http drops the body). */
export function writeAnswer(response: ServerResponse, answer: Answer): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
}

/**
 * The health endpoints as a plain node:http handler: `/livez`, `/readyz` and `/health` (or
 * `paths`) answer GET and HEAD with their report. Any other request goes to `next` when one is
 * given (so it also serves as express or connect middleware), else gets 404.
 */
export function healthRoutes(
  health: HealthRegistry,
  paths?: HealthPaths,
): (request: IncomingMessage, response: ServerResponse, next?: () => void) => void {
  if (typeof (health as Partial<HealthRegistry> | null)?.run !== 'function') {
    throw invalid('healthRoutes', 'health', health, 'a HealthRegistry (from healthRegistry())');
  }
  const routes = checkHealthPaths(paths, 'healthRoutes');
  return (request, response, next) => {
    const route =
      request.method === 'GET' || request.method === 'HEAD'
        ? healthRouteOf(routes, request.url)
        : undefined;
    if (route !== undefined) {
      healthAnswer(health, route).then((answer) => writeAnswer(response, answer));
    } else if (typeof next === 'function') {
      next();
    } else {
      writeAnswer(response, notFound);
    }
  };
}

const notFound: Answer = Object.freeze({
  status: 404,
  headers: Object.freeze({ 'content-type': 'text/plain; charset=utf-8' }),
  body: 'Not Found\n',
});
