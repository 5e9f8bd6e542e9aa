/**
 * Runs one HTTP family: its load generator in a process of its own (pinned to a core when the
 * machine allows), which starts the servers in processes of their own on the other core.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOAD_CORE } from './server-process.mjs';

const script = join(dirname(fileURLToPath(import.meta.url)), 'family-child.mjs');

/** The family's result (`{ rows, ... }`), or `{ error }`; progress lines go to `log` as they come. */
export function runHttpFamily(family, settings, pin, log) {
  const args = [script, family.id, JSON.stringify(settings), pin ? '1' : '0'];
  const [command, argv] = pin
    ? ['taskset', ['-c', String(LOAD_CORE), process.execPath, ...args]]
    : [process.execPath, args];
  return new Promise((resolve) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const logged = [];
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const lines = err.split('\n');
      err = lines.pop();
      for (const line of lines) {
        logged.push(line);
        log(line);
      }
    });
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)));
      } catch {
        const lines = [...logged, err].filter(Boolean);
        const reason = lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.at(-1);
        resolve({ error: `exit ${code}: ${reason ?? 'no output'}` });
      }
    });
  });
}
