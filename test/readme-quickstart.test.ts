import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const workDir = join(root, 'test', '.quickstart');
const script = join(workDir, 'quickstart.ts');

/** The first TypeScript block under the README's "Quick start" heading. */
async function quickStart(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README.md has no ```ts block under "## Quick start"');
  return match[1];
}

async function serve(status: number, body: object): Promise<{ server: Server; url: string }> {
  const server = createServer((_, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function runAgainst(url: string): Promise<string> {
  // 'bulwark' resolves to src/ through the project's tsconfig paths, as in the examples.
  const source = (await quickStart()).replace('http://127.0.0.1:8080', url);
  await writeFile(script, source);
  const { stdout } = await run(
    process.execPath,
    [join(root, 'node_modules/tsx/dist/cli.mjs'), script],
    {
      cwd: root,
      timeout: 20_000,
    },
  );
  return stdout;
}

describe('README quick start', () => {
  beforeAll(async () => {
    await mkdir(workDir, { recursive: true });
  });
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('type-checks as written', async () => {
    await writeFile(script, await quickStart());
    await writeFile(
      join(workDir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', include: ['quickstart.ts'] }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await expect(
      run(process.execPath, [tsc, '-p', join(workDir, 'tsconfig.json')], { cwd: root }),
    ).resolves.toBeDefined();
  });

  it('returns what a healthy service answers', async () => {
    const { server, url } = await serve(200, { id: 42, name: 'Ada' });
    try {
      expect(await runAgainst(url)).toContain("name: 'Ada'");
    } finally {
      server.close();
    }
  });

  it('falls back when the service keeps answering 503', async () => {
    let requests = 0;
    const { server, url } = await serve(503, { error: 'overloaded' });
    server.on('request', () => requests++);
    try {
      expect(await runAgainst(url)).toContain('unknown (service unavailable)');
      expect(requests).toBe(3);
    } finally {
      server.close();
    }
  });

  it('neither retries nor replaces a 4xx answer', async () => {
    let requests = 0;
    const { server, url } = await serve(404, { error: 'no such user' });
    server.on('request', () => requests++);
    try {
      await expect(runAgainst(url)).rejects.toMatchObject({
        stderr: expect.stringMatching(/HTTP 404/),
      });
      expect(requests).toBe(1);
    } finally {
      server.close();
    }
  });
});
