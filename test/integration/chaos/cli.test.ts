import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startHttpService } from './helpers.js';

/** `bulwark chaos-proxy` as a real child process, run from source through tsx. */
const root = join(import.meta.dirname, '../../..');
const cli = ['--import', 'tsx', join(root, 'src/cli.ts')];
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[]): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...cli, ...args], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

/** Starts the CLI and resolves once it has printed its two address lines. */
async function start(args: readonly string[]): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [...cli, ...args], { cwd: root });
  cleanup.add(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout! });
  reader.on('line', (line) => lines.push(line));
  while (!lines.some((line) => line.startsWith('control API: '))) {
    await Promise.race([
      once(reader, 'line'),
      once(child, 'exit').then(() => {
        throw new Error(`the CLI exited early: ${lines.join('\n')}`);
      }),
    ]);
  }
  return { child, lines };
}

describe('bulwark chaos-proxy (CLI)', () => {
  it('proxies, takes toxics through its control API and stops cleanly on SIGTERM', async () => {
    const upstream = await startHttpService(cleanup);
    const { child, lines } = await start([
      'chaos-proxy',
      '--listen',
      ':0',
      '--upstream',
      upstream,
      '--name',
      'web',
    ]);
    const proxyLine = /^chaos proxy "web": 127\.0\.0\.1:(\d+) -> (.+)$/.exec(lines[0]!);
    expect(proxyLine?.[2]).toBe(upstream);
    const controlUrl = lines[1]!.replace('control API: ', '');
    const through = `http://127.0.0.1:${proxyLine?.[1]}/`;
    expect(await (await fetch(through)).text()).toBe('ok');

    const added = await fetch(`${controlUrl}/proxies/web/toxics`, {
      method: 'POST',
      body: JSON.stringify({ type: 'reset_peer' }),
    });
    expect(added.status).toBe(200);
    await expect(fetch(through)).rejects.toThrow();

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect(lines.slice(2)).toEqual(['SIGTERM: stopping', 'stopped']);
  });

  it('stops on SIGINT too', async () => {
    const upstream = await startHttpService(cleanup);
    const { child, lines } = await start(['chaos-proxy', '--upstream', upstream]);
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    expect(await exited).toEqual([0, null]);
    expect(lines.at(-1)).toBe('stopped');
  });

  it('prints its usage with --help', async () => {
    const { code, stdout } = await run(['chaos-proxy', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: bulwark chaos-proxy --upstream host:port');
  });

  it('explains bad flags and exits with 2', async () => {
    const [unknown, missing, malformed, command] = await Promise.all([
      run(['chaos-proxy', '--upstream', ':1', '--speed', '9']),
      run(['chaos-proxy', '--listen', ':0']),
      run(['chaos-proxy', '--upstream', 'nowhere']),
      run(['nonsense']),
    ]);
    expect(unknown).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--speed'"),
    });
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--upstream host:port is required'),
    });
    expect(malformed).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "--upstream must be 'host:port', ':port' or { host, port } (got \"nowhere\")",
      ),
    });
    expect(command).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "nonsense"'),
    });
  });
});
