/**
 * Starts benchmark servers in processes of their own. On a machine with two cores or more, and
 * `taskset` available, the server is pinned to core 0 while the load generator (the process
 * calling this) pins itself to core 1, so the two never compete for one core.
 */
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), 'server-child.mjs');

export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

/** Whether processes can be pinned to cores here: `taskset` works and there are two cores. */
export function canPin() {
  if (os.availableParallelism() < 2) return false;
  return spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** Pins this process (the load generator) to its core. */
export function pinSelf() {
  spawnSync('taskset', ['-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Starts one server of `familyId` and resolves once it listens, to `{ port, usage(), stop() }`;
 * rejects with the child's error when it cannot start.
 */
export function startServer(familyId, variantId, settings, pin) {
  const args = [script, familyId, variantId, JSON.stringify(settings)];
  const [command, argv] = pin
    ? ['taskset', ['-c', String(SERVER_CORE), process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const failed = (code) =>
      reject(new Error(firstError(stderr) ?? `server exited with ${code} before listening`));
    child.once('exit', failed);
    child.once('message', ({ port }) => {
      child.off('exit', failed);
      resolve(handle(child, port));
    });
  });
}

function handle(child, port) {
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    /**
     * The server's CPU time so far and the time of reading it, both in ms; undefined when it
     * does not answer within 10 s (a server buried in queued work).
     */
    usage: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.off('message', resolve);
          resolve(undefined);
        }, 10_000);
        child.once('message', (usage) => {
          clearTimeout(timer);
          resolve(usage);
        });
        child.send('usage');
      }),
    /** Closes the server and waits for its process to end; kills it if that takes over 5 s. */
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send('stop');
      }),
    /** Ends the server at once, whatever it still has queued. */
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

function firstError(output) {
  const lines = output.trim().split('\n');
  return lines.find((line) => /^\w*Error\b/.test(line)) ?? (lines.at(-1) || undefined);
}
