/** Runs a benchmark script in a fresh Node process and returns the JSON of its last line. */
import { spawn } from 'node:child_process';

/**
 * A fresh process per measurement keeps one case's JIT feedback, heap and timers from
 * skewing the next (the reason JMH forks a JVM per benchmark). The child prints its result as
 * JSON on its last line of output; a child that fails resolves to `{ error }`.
 */
export function runChild(script, args, nodeArgs = []) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', ...nodeArgs, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1);
      try {
        resolve(JSON.parse(last));
      } catch {
        resolve({ error: `exit ${code}: ${failureOf(err || out)}` });
      }
    });
  });
}

/** The line of a failed child's output that says what went wrong: its error, if it printed one. */
function failureOf(output) {
  const lines = output.trim().split('\n');
  return lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.slice(-3).join(' | ');
}
