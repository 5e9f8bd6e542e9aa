/** Turns results into budgets, console tables, Markdown and JSON. */

export function formatTime(ns) {
  if (ns === undefined) return '—';
  if (ns < 1000) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

export function formatBytes(bytes) {
  if (bytes === undefined || Number.isNaN(bytes)) return '—';
  if (Math.abs(bytes) < 1024) return `${bytes.toFixed(0)} B`;
  if (Math.abs(bytes) < 2 ** 20) return `${(bytes / 1024).toFixed(2)} KB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

const ratio = (r) => (r === undefined ? '—' : `${r.toFixed(2)}×`);
const ms = (v) => (v === undefined ? '—' : `${v.toFixed(0)} ms`);
const int = (v) => (v === undefined ? '—' : v.toLocaleString('en-US'));

/** One line per budget: PASS, or FAIL (also when its case could not run). */
export function evaluateBudgets(microRows, scaleRows) {
  const out = [];
  for (const row of microRows) {
    if (row.budget === undefined) continue;
    const { budget } = row;
    const entry = {
      id: budget.id,
      text: budget.text,
      subject: `${row.family}: ${row.label}`,
      floor: floorOf(microRows, budget.floor),
    };
    if (row.status !== 'ok') {
      out.push({ ...entry, status: 'FAIL', measured: `error: ${row.reason}` });
      continue;
    }
    const parts = [`${ratio(row.ratio)} bare`];
    let pass = budget.maxRatio === undefined || row.ratio <= budget.maxRatio;
    const sibling = (test) =>
      microRows.find((r) => r.family === row.family && r.status === 'ok' && test(r));
    const relative = budget.relativeTo;
    if (relative !== undefined) {
      const reference = sibling((r) => r.label === relative.label);
      if (reference === undefined) {
        parts.push(`${relative.short} not measured`);
        pass = false;
      } else {
        const times = row.ratio / reference.ratio;
        parts.push(`${times.toFixed(2)}× ${relative.short}`);
        pass &&= times <= relative.factor;
      }
    }
    for (const over of [budget.minSpeedupOver ?? []].flat()) {
      const peer = sibling((r) => r.library === over.library);
      if (peer === undefined) {
        parts.push(`${over.library} not measured`);
        pass = false;
      } else {
        const speedup = peer.avgNs / row.avgNs;
        parts.push(`${speedup.toFixed(1)}× faster than ${over.library}`);
        pass &&= speedup >= over.factor;
      }
    }
    out.push({ ...entry, status: pass ? 'PASS' : 'FAIL', measured: parts.join(', ') });
  }
  for (const row of scaleRows) {
    const budget = row.scaleBudget;
    if (budget === undefined) continue;
    const measured =
      budget.unit === 'B' ? formatBytes(budget.measured) : `${budget.measured} ${budget.unit}`;
    out.push({
      id: budget.id,
      text: budget.text,
      subject: `${row.family}: ${row.label}`,
      status: budget.pass ? 'PASS' : 'FAIL',
      measured,
    });
  }
  return out;
}

/**
 * The ratio of the `floor` family's reference row a budget names: the least any wrapper built
 * that way can measure in this run, whatever library implements it.
 */
function floorOf(rows, floor) {
  if (floor === undefined) return undefined;
  const row = rows.find(
    (r) => r.family === 'floor' && r.label === floor.label && r.status === 'ok',
  );
  return `${row === undefined ? 'not measured' : ratio(row.ratio)} (${floor.short})`;
}

const microColumns = [
  ['library', (r) => r.library],
  ['avg', (r) => formatTime(r.avgNs)],
  ['p50', (r) => formatTime(r.p50Ns)],
  ['p99', (r) => formatTime(r.p99Ns)],
  ['× bare', (r) => ratio(r.ratio)],
  ['heap/call', (r) => formatBytes(r.heapBytes)],
  ['case', (r) => r.label + (r.status === 'ok' ? '' : ` (${r.status}: ${r.reason})`)],
];

const scaleColumns = {
  'scale-breaker-memory': [
    ['library', (r) => r.library],
    ['variant', (r) => r.label],
    ['bytes/breaker', (r) => formatBytes(r.result?.bytesPerBreaker)],
    ['live timers', (r) => int(r.result?.timers)],
    ['ref’d timers', (r) => int(r.result?.refTimers)],
    ['build µs/breaker', (r) => r.result?.buildMicrosPerBreaker?.toFixed(2) ?? '—'],
  ],
  'scale-timeout-inflight': [
    ['library', (r) => r.library],
    ['variant', (r) => r.label],
    ['heap/call in flight', (r) => formatBytes(r.result?.bytesPerCall)],
    ['live timers', (r) => int(r.result?.timers)],
    ['ref’d timers', (r) => int(r.result?.refTimers)],
    ['start all', (r) => ms(r.result?.startMs)],
    ['release→settled', (r) => ms(r.result?.settleMs)],
    ['timers after', (r) => int(r.result?.timersAfter)],
  ],
  'scale-keyed-breaker': [
    ['library', (r) => r.library],
    ['variant', (r) => r.label],
    ['keys kept', (r) => int(r.result?.keysKept)],
    ['bytes/key kept', (r) => formatBytes(r.result?.bytesPerKey)],
    ['heap', (r) => formatBytes(r.result && r.result.heapDeltaMB * 2 ** 20)],
    ['time/call', (r) => formatTime(r.result?.callNs)],
    ['live timers', (r) => int(r.result?.timers)],
  ],
  'scale-rate-limiter-keys': [
    ['library', (r) => r.library],
    ['variant', (r) => r.label],
    ['buckets kept', (r) => int(r.result?.keysKept)],
    ['bytes/bucket kept', (r) => formatBytes(r.result?.bytesPerKey)],
    ['heap', (r) => formatBytes(r.result && r.result.heapDeltaMB * 2 ** 20)],
    ['time/decision', (r) => formatTime(r.result?.callNs)],
    ['live timers', (r) => int(r.result?.timers)],
  ],
  'scale-shedder-queue': [
    ['library', (r) => r.library],
    ['variant', (r) => r.label],
    ['queued', (r) => int(r.result?.queued)],
    ['time/call', (r) => formatTime(r.result?.nsPerCall)],
  ],
};

function cells(columns, rows) {
  return {
    head: columns.map(([name]) => name),
    body: rows.map((row) =>
      columns.map(([, get]) => {
        const value = get(row);
        return row.status === 'ok' || value !== '—' ? value : row.status;
      }),
    ),
  };
}

export function textTable({ head, body }) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

export function markdownTable({ head, body }) {
  const esc = (c) => c.replaceAll('|', '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...body.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function familyTable(family, rows, markdown = false) {
  const columns = scaleColumns[family.id] ?? microColumns;
  const data = cells(columns, rows);
  return markdown ? markdownTable(data) : textTable(data);
}

export function budgetTable(budgets, markdown = false) {
  const data = {
    head: ['result', 'budget', 'measured', 'floor (same run)', 'case'],
    body: budgets.map((b) => [b.status, b.text, b.measured, b.floor ?? '—', b.subject]),
  };
  return markdown ? markdownTable(data) : textTable(data);
}

export function environmentLines(env) {
  const peers = Object.entries(env.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return [
    `date: ${env.date}`,
    `node: ${env.node} (V8 ${env.v8}), ${env.platform}, --expose-gc: ${env.exposeGc}`,
    `cpu: ${env.cpu} × ${env.cores}, ${env.memoryGiB} GiB`,
    `versions: ${peers}`,
  ];
}

export function markdownReport({ env, options, families, budgets }) {
  const out = [
    '# bulwark benchmark results',
    '',
    'Generated by `benchmarks/run.mjs`; see README.md in this folder for what each case means.',
    '',
    ...environmentLines(env).map((l) => `- ${l}`),
    `- settings: ${options.rounds} round(s) of ≥${options.cpuTimeNs / 1e6} ms per case; times from the fastest round, × bare the median of ratios paired with the baseline in each round; scale counts ×${options.scaleFactor}${options.filter.length ? `; filter: ${options.filter.join(', ')}` : ''}`,
    '',
    '## Budgets',
    '',
    budgetTable(budgets, true),
    '',
  ];
  for (const { family, rows } of families) {
    out.push(`## ${family.id}: ${family.title}`, '', familyTable(family, rows, true), '');
  }
  return out.join('\n');
}
