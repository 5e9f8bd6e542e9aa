/**
 * RESULTS.md holds the micro and scale report and, in a block of its own, the simulator's
 * proofs. Each runner rewrites only its part, so running one never erases the other's tables.
 */
import { existsSync, readFileSync } from 'node:fs';

const START = '<!-- simulator proofs: start -->';
const END = '<!-- simulator proofs: end -->';

/** The simulator's block of `text`, markers included, or '' when it has none. */
function proofBlock(text) {
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  return from === -1 || to === -1 ? '' : text.slice(from, to + END.length);
}

function current(path) {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The micro report, followed by the proofs block already in the file at `path`, if any. */
export function withProofs(path, report) {
  const block = proofBlock(current(path));
  return block === '' ? report : `${report.trimEnd()}\n\n${block}\n`;
}

/** The file at `path` with its proofs block replaced by `proofs` (appended if it had none). */
export function replacingProofs(path, proofs) {
  const text = current(path);
  const block = `${START}\n${proofs.trim()}\n${END}`;
  const old = proofBlock(text);
  if (old !== '') return text.replace(old, block);
  return `${text.trimEnd()}${text === '' ? '' : '\n\n'}${block}\n`;
}
