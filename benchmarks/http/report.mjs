/** Console tables and the Markdown block of the HTTP families. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from '../lib/env.mjs';
import { markdownTable, textTable } from '../lib/report.mjs';

const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const ms = (v) => (v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`);
const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');

const closedColumns = [
  ['library', (r) => r.library],
  ['req/s', (r) => int(r.rps)],
  ['rounds', (r) => (r.rpsRange ? `${int(r.rpsRange[0])}–${int(r.rpsRange[1])}` : '—')],
  ['× bare', (r) => (r.ratio === undefined ? '—' : `${r.ratio.toFixed(3)}×`)],
  ['p50', (r) => ms(r.p50Ms)],
  ['p99', (r) => ms(r.p99Ms)],
  ['server CPU', (r) => pct(r.serverCpu)],
  [
    'CPU/req',
    (r) => (r.cpuUsPerRequest === undefined ? '—' : `${r.cpuUsPerRequest.toFixed(2)} µs`),
  ],
  ['client CPU', (r) => pct(r.clientCpu)],
  ['non-2xx', (r) => int(r.non2xx)],
  ['errors', (r) => int(r.errors === undefined ? undefined : r.errors + r.timeouts)],
  ['case', (r) => r.label + (r.status === 'ok' ? '' : ` (${r.status}: ${r.reason})`)],
];

const overloadColumns = [
  ['scenario', (r) => r.label + (r.status === 'ok' ? '' : ` (${r.status}: ${r.reason})`)],
  ['offered/s', (r) => int(r.offered === undefined ? undefined : r.offered / r.durationS)],
  ['goodput/s', (r) => int(r.goodputRps)],
  ['of capacity', (r) => pct(r.ofCapacity)],
  ['admitted p50', (r) => ms(r.p50Ms)],
  ['admitted p99', (r) => ms(r.p99Ms)],
  ['shed (503)', (r) => int(r.shed)],
  ['timed out', (r) => int(r.timeouts)],
  ['listen drops', (r) => int(r.listenDrops)],
  ['errors', (r) => int(r.errors === undefined ? undefined : r.errors + r.otherStatus)],
  ['server CPU', (r) => pct(r.serverCpu)],
  ['client CPU', (r) => pct(r.clientCpu)],
];

function cells(columns, rows) {
  return {
    head: columns.map(([name]) => name),
    body: rows.map((row) => columns.map(([, get]) => get(row))),
  };
}

/** The rows of a family's result as a table; the overload family adds its reference rows. */
export function httpTable(family, result, markdown = false) {
  const render = markdown ? markdownTable : textTable;
  if (result.error !== undefined) return `  error: ${result.error}`;
  if (family.kind !== 'overload') return render(cells(closedColumns, result.rows));
  const reference = {
    label: `unloaded reference: ${result.settings.unloadedFactor}× capacity, no admission control`,
    status: 'ok',
    ...result.unloaded,
  };
  const capacity = `capacity C = ${int(result.capacityRps)} req/s (closed loop; p50 ${ms(result.capacity.p50Ms)}, p99 ${ms(result.capacity.p99Ms)}; server CPU ${pct(result.capacity.serverCpu)}); offered load ${result.settings.loadFactor}× C`;
  const table = render(cells(overloadColumns, [reference, ...result.rows]));
  return markdown ? `${capacity}\n\n${table}` : `  ${capacity}\n${table}`;
}

export function verdictTable(verdicts, markdown = false) {
  const data = {
    head: ['result', 'claim', 'measured'],
    body: verdicts.map((v) => [v.status, v.claim, v.measured]),
  };
  return markdown ? markdownTable(data) : textTable(data);
}

/** Versions of the servers, plugins and load generator measured. */
export function httpVersions() {
  const names = [
    'fastify',
    '@fastify/rate-limit',
    '@fastify/under-pressure',
    'express',
    'express-rate-limit',
    'autocannon',
  ];
  return names
    .map((name) => {
      try {
        const meta = JSON.parse(
          readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8'),
        );
        return `${name} ${meta.version}`;
      } catch {
        return `${name} missing`;
      }
    })
    .join(', ');
}
