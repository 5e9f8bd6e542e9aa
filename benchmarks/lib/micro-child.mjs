/**
 * Child process for one micro family: `node --expose-gc lib/micro-child.mjs <family> <rounds>
 * <cpu time per round, ns>`. Prints `{ rows, log }` as JSON on its last line.
 */
import { loadLibraries, microFamilies } from './families.mjs';
import { runFamily } from './micro.mjs';

const [id, rounds, cpuTimeNs] = process.argv.slice(2);
const family = microFamilies.find((f) => f.id === id);
if (family === undefined) throw new Error(`no micro family ${id}`);
const log = [];
const rows = await runFamily(
  family,
  await loadLibraries(),
  { rounds: Number(rounds), cpuTimeNs: Number(cpuTimeNs) },
  (line) => log.push(line),
);
process.stdout.write(`${JSON.stringify({ rows, log })}\n`);
