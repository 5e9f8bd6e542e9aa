/**
 * bulwark's benchmark suite: bulwark and its peers side by side, each family in a fresh process
 * of its own, reported as ratios to a bare `await fn()` measured in the same rounds, then the
 * scale cases, each measurement in a fresh process, then the HTTP families on real sockets.
 * `node --expose-gc benchmarks/run.mjs --help` lists the options.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpFamilies, httpMarkdown, runHttp } from './http/index.mjs';
import { benchDir, environment } from './lib/env.mjs';
import { microFamilies } from './lib/families.mjs';
import { runFamilyInChild } from './lib/micro.mjs';
import {
  budgetTable,
  environmentLines,
  evaluateBudgets,
  familyTable,
  markdownReport,
} from './lib/report.mjs';
import { runScaleFamily, scaleFamilies } from './lib/scale.mjs';
import { HTTP_BLOCK, replacingBlock, withBlocks } from './lib/sections.mjs';

const usage = `usage: node --expose-gc benchmarks/run.mjs [options]
  --filter TEXT      run only families whose id contains TEXT (repeatable, or comma-separated)
  --json FILE        write all results as JSON to FILE
  --markdown [FILE]  write a Markdown report (default: benchmarks/RESULTS.md)
  --rounds N         measurement rounds per case, fastest kept (default 5)
  --time MS          minimum CPU time per measurement round (default 200)
  --quick            1 round of 100 ms, scale counts ÷10, short HTTP runs: a smoke test, not a result
  --no-scale         skip the scale cases (child processes)
  --no-http          skip the HTTP families (real servers on loopback, about 3 minutes)
  --strict           exit with status 1 when a budget fails or an HTTP claim is not shown to hold
  --list             list the families and exit`;

function parse(argv) {
  const options = {
    filter: [],
    json: undefined,
    markdown: undefined,
    rounds: 5,
    timeMs: 200,
    scaleFactor: 1,
    scale: true,
    http: true,
    quick: false,
    strict: false,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--filter':
        options.filter.push(...value().split(',').filter(Boolean));
        break;
      case '--json':
        options.json = resolve(value());
        break;
      case '--markdown': {
        const next = inline ?? (argv[i + 1]?.startsWith('--') ? undefined : argv[++i]);
        options.markdown = resolve(next ?? join(benchDir, 'RESULTS.md'));
        break;
      }
      case '--rounds':
        options.rounds = Math.max(1, Number.parseInt(value(), 10));
        break;
      case '--time':
        options.timeMs = Math.max(10, Number(value()));
        break;
      case '--quick':
        options.rounds = 1;
        options.timeMs = 100;
        options.scaleFactor = 0.1;
        options.quick = true;
        break;
      case '--no-scale':
        options.scale = false;
        break;
      case '--no-http':
        options.http = false;
        break;
      case '--strict':
        options.strict = true;
        break;
      case '--list':
        options.list = true;
        break;
      case '--help':
      case '-h':
        console.log(usage);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${argv[i]}\n${usage}`);
    }
  }
  options.cpuTimeNs = options.timeMs * 1e6;
  return options;
}

// mitata collects garbage between cases and the scale cases measure heaps: both need gc.
if (typeof globalThis.gc !== 'function') {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, self, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}

let options;
try {
  options = parse(process.argv.slice(2));
} catch (error) {
  console.error(error.message);
  process.exit(2);
}

const selected = (family) =>
  options.filter.length === 0 || options.filter.some((f) => family.id.includes(f));
const micro = microFamilies.filter(selected);
const scale = options.scale ? scaleFamilies.filter(selected) : [];
const http = options.http ? httpFamilies.filter(selected) : [];

if (options.list) {
  for (const f of [...microFamilies, ...scaleFamilies, ...httpFamilies])
    console.log(`${f.id.padEnd(24)} ${f.title}`);
  process.exit(0);
}
if (micro.length + scale.length + http.length === 0) {
  console.error(`no family matches --filter ${options.filter.join(',')}; try --list`);
  process.exit(2);
}

const env = environment();
console.log('bulwark benchmarks');
for (const line of environmentLines(env)) console.log(`  ${line}`);
if (!process.version.startsWith('v24.')) {
  console.log(
    `  warning: expected Node 24 (run through \`npm run bench\`), got ${process.version}`,
  );
}

const log = (line) => console.log(line);
const families = [];
const started = performance.now();

for (const family of micro) {
  console.log(`\n${family.id}: ${family.title}`);
  const rows = await runFamilyInChild(family, options, log);
  console.log(familyTable(family, rows));
  families.push({ family, rows });
}
for (const family of scale) {
  console.log(`\n${family.id}: ${family.title}`);
  const rows = await runScaleFamily(family, options, log);
  console.log(familyTable(family, rows));
  families.push({ family, rows });
}

const microRows = families.filter((f) => !f.family.script).flatMap((f) => f.rows);
const scaleRows = families.filter((f) => f.family.script).flatMap((f) => f.rows);
const budgets = evaluateBudgets(microRows, scaleRows);
if (families.length > 0) {
  console.log('\nbudgets (ratios to the bare call measured in the same run)');
  console.log(budgets.length > 0 ? budgetTable(budgets) : '  none in the selected families');
}
const httpRun = http.length > 0 ? await runHttp(http, options, log) : undefined;
console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s`);

const report = { env, options, families, budgets, http: httpRun };
if (options.json !== undefined) {
  write(options.json, `${JSON.stringify(toJson(report), null, 2)}\n`);
  console.log(`wrote ${options.json}`);
}
if (options.markdown !== undefined) {
  const fresh = httpRun === undefined ? {} : { [HTTP_BLOCK]: httpMarkdown(httpRun, env) };
  // A run of only HTTP families leaves the micro report in the file as it was.
  const text =
    families.length > 0
      ? withBlocks(options.markdown, markdownReport(report), fresh)
      : replacingBlock(options.markdown, HTTP_BLOCK, fresh[HTTP_BLOCK]);
  write(options.markdown, text);
  console.log(`wrote ${options.markdown}`);
}
const failed =
  budgets.some((b) => b.status === 'FAIL') ||
  httpRun?.verdicts.some((v) => v.status !== 'HOLDS') === true;
process.exit(options.strict && failed ? 1 : 0);

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function toJson({ env, options, families, budgets, http }) {
  return {
    env,
    options: { ...options, filter: options.filter },
    families: families.map(({ family, rows }) => ({
      id: family.id,
      title: family.title,
      kind: family.script ? 'scale' : 'micro',
      rows: rows.map(({ budget, scaleBudget, ...row }) => ({
        ...row,
        budget: (budget ?? scaleBudget)?.text,
      })),
    })),
    budgets,
    http,
  };
}
