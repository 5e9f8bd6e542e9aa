/**
 * RESULTS.md holds the micro and scale report and, in blocks of their own, the HTTP benchmarks
 * and the simulator's proofs. Each runner rewrites only its part, so running one never erases
 * the others' tables.
 */
import { existsSync, readFileSync } from 'node:fs';

export const HTTP_BLOCK = 'http benchmarks';
export const PROOFS_BLOCK = 'simulator proofs';
/** The order the blocks follow the report in. */
const BLOCKS = [HTTP_BLOCK, PROOFS_BLOCK];

const start = (name) => `<!-- ${name}: start -->`;
const end = (name) => `<!-- ${name}: end -->`;

/** The block `name` of `text`, markers included, or '' when it has none. */
function blockOf(text, name) {
  const from = text.indexOf(start(name));
  const to = text.indexOf(end(name));
  return from === -1 || to === -1 ? '' : text.slice(from, to + end(name).length);
}

function marked(name, body) {
  return `${start(name)}\n${body.trim()}\n${end(name)}`;
}

function current(path) {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/**
 * The micro report, followed by the blocks already in the file at `path`, except those given
 * anew in `fresh` (block name → body), which replace them.
 */
export function withBlocks(path, report, fresh = {}) {
  const text = current(path);
  const blocks = BLOCKS.map((name) =>
    fresh[name] === undefined ? blockOf(text, name) : marked(name, fresh[name]),
  ).filter((block) => block !== '');
  return [report.trimEnd(), ...blocks].join('\n\n').concat('\n');
}

/** The file at `path` with its block `name` replaced by `body` (appended if it had none). */
export function replacingBlock(path, name, body) {
  const text = current(path);
  const block = marked(name, body);
  const old = blockOf(text, name);
  if (old !== '') return text.replace(old, () => block);
  return `${text.trimEnd()}${text === '' ? '' : '\n\n'}${block}\n`;
}

/** The file at `path` with its simulator block replaced by `proofs`. */
export function replacingProofs(path, proofs) {
  return replacingBlock(path, PROOFS_BLOCK, proofs);
}
