/**
 * Profiles one case of the suite: runs it in a loop under --cpu-prof and prints where the time
 * went: self and inclusive time of the top functions. run.mjs reports the heap per call.
 * usage: node benchmarks/profile.mjs <family> [library=bulwark] [seconds=3] [top=20]
 * e.g.   node benchmarks/profile.mjs timeout bulwark
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLibraries, microFamilies } from './lib/families.mjs';

const [familyId, library = 'bulwark', seconds = '3', top = '20'] = process.argv.slice(2);
const family = microFamilies.find((f) => f.id === familyId);
if (family === undefined) {
  console.error(`usage: node benchmarks/profile.mjs <family> [library] [seconds] [top]
families: ${microFamilies.map((f) => f.id).join(', ')}`);
  process.exit(2);
}

if (process.env.BULWARK_PROFILE_CHILD === undefined) {
  // Parent: rerun this script under the profiler, then summarise what it wrote.
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-prof-'));
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, self, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, BULWARK_PROFILE_CHILD: '1' } },
  );
  if (child.status !== 0) process.exit(child.status ?? 1);
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')), Number(top));
  console.log(`profile: ${join(dir, file)} (open in Chrome DevTools > Performance)`);
  process.exit(0);
}

const libs = await loadLibraries();
const entry = family.cases.find((c) => c.library === library);
if (entry === undefined) throw new Error(`${familyId} has no ${library} case`);
const made = await entry.make(libs);
const hooks = typeof made === 'function' ? { run: made } : made;
hooks.attach?.();

const until = performance.now() + Number(seconds) * 1000;
let calls = 0;
while (performance.now() < until) {
  for (let i = 0; i < 10_000; i++) await hooks.run();
  calls += 10_000;
}
const ms = Number(seconds) * 1000;
console.log(`${familyId} / ${library}: ${entry.label}`);
console.log(`${calls.toLocaleString('en-US')} calls, ${((ms * 1e6) / calls).toFixed(0)} ns/call`);
hooks.detach?.();
await hooks.teardown?.();

function summarise(profile, limit) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => {
    const f = n.callFrame;
    const where = f.url ? ` ${f.url.split('/').pop()}:${f.lineNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'}${where}`;
  };
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const leaf = name(nodes.get(id));
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = name(nodes.get(at));
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  for (const [title, map] of [
    ['self time', self],
    ['inclusive time', inclusive],
  ]) {
    console.log(`\n${title}:`);
    const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, limit);
    for (const [key, t] of rows)
      console.log(`${((100 * t) / total).toFixed(1).padStart(6)}%  ${key}`);
  }
}
