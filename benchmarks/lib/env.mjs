import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const rootDir = join(benchDir, '..');

/** The machine and runtime a result belongs to. */
export function environment() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    exposeGc: typeof globalThis.gc === 'function',
    versions: peerVersions(),
  };
}

function peerVersions() {
  const versions = {};
  for (const name of [
    'cockatiel',
    'opossum',
    'p-retry',
    'p-limit',
    'rate-limiter-flexible',
    '@fastify/rate-limit',
    'lru-cache',
    'prom-client',
    'mitata',
  ]) {
    try {
      versions[name] = readJson(join(benchDir, 'node_modules', name, 'package.json')).version;
    } catch {
      versions[name] = 'missing';
    }
  }
  versions.bulwark = readJson(join(rootDir, 'package.json')).version;
  return versions;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * bulwark's built entry point. tsdown may name it index.js or index.mjs depending on its
 * version and the package type, so take whichever exists; BULWARK_DIST overrides both.
 */
export function bulwarkEntry() {
  if (process.env.BULWARK_DIST) return process.env.BULWARK_DIST;
  for (const name of ['index.js', 'index.mjs']) {
    const path = join(rootDir, 'dist', name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Imports bulwark from its build output, or explains how to build it. */
export async function loadBulwark() {
  const entry = bulwarkEntry();
  if (entry === undefined) {
    throw new Error('bulwark is not built: run `npx tsdown` (or `npm run build`) in the root');
  }
  return import(pathToFileURL(entry).href);
}

/** `bulwark/chaos` from the same build, beside the entry point. */
export async function loadBulwarkChaos() {
  const entry = bulwarkEntry();
  if (entry === undefined) return loadBulwark(); // which explains how to build it
  const dir = dirname(entry);
  const path = ['index.js', 'index.mjs']
    .map((name) => join(dir, 'chaos', name))
    .find((candidate) => existsSync(candidate));
  if (path === undefined) throw new Error(`bulwark/chaos is not built beside ${entry}`);
  return import(pathToFileURL(path).href);
}

/** Number of armed timers (setTimeout/setInterval) that Node reports as active. */
export function activeTimers() {
  let count = 0;
  for (const kind of process.getActiveResourcesInfo()) if (kind === 'Timeout') count++;
  return count;
}

/**
 * Bytes in use on the JS heap plus memory held outside it for JS objects (ArrayBuffer
 * backing stores, so a ring buffer in a typed array is counted), after a full collection.
 */
export function settledHeap() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/**
 * bulwark/prometheus from the same build as {@link loadBulwark}: the two share their chunks,
 * so the adapter listens on the bus the pipelines emit to.
 */
export async function loadBulwarkPrometheus() {
  const entry = bulwarkEntry();
  if (entry === undefined) {
    throw new Error('bulwark is not built: run `npx tsdown` (or `npm run build`) in the root');
  }
  const adapter = join(dirname(entry), 'adapters', 'prometheus', basename(entry));
  return import(pathToFileURL(adapter).href);
}
