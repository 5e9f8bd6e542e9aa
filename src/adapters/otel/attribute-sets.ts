import type { Attributes } from '@opentelemetry/api';
import { attributes } from './names.js';

/**
 * The attribute objects measurements carry, made once per policy and value and then reused:
 * recording allocates nothing, and the set of objects is as bounded as the values are (policy
 * names and a few enumerated reasons, never a call's key).
 */
export class AttributeSets {
  readonly #constant: Attributes;
  /**
   * Made sets, found by each part in turn: the parts are short strings V8 has already hashed,
   * where one key joined from them would be a fresh string to hash on every measurement.
   */
  readonly #made: Trie = new Map();

  constructor(constant: Attributes) {
    this.#constant = constant;
  }

  /**
   * The policy's name and kind, the constant attributes, and up to two more `name: value`
   * pairs; a pair whose value is undefined is left out.
   */
  of(
    policy: string,
    kind: string,
    name?: string,
    value?: string,
    name2?: string,
    value2?: string,
  ): Attributes {
    const node = step(step(step(step(step(this.#made, kind), policy), name), value), name2);
    let made = node.get(value2) as Attributes | undefined;
    if (made === undefined) {
      made = {
        ...this.#constant,
        [attributes.policyName]: policy,
        [attributes.policyKind]: kind,
      };
      if (name !== undefined && value !== undefined) made[name] = value;
      if (name2 !== undefined && value2 !== undefined) made[name2] = value2;
      node.set(value2, made);
    }
    return made;
  }
}

type Trie = Map<string | undefined, Trie | Attributes>;

/** The branch of `trie` for `part`, made when missing. */
function step(trie: Trie, part: string | undefined): Trie {
  let branch = trie.get(part) as Trie | undefined;
  if (branch === undefined) {
    branch = new Map();
    trie.set(part, branch);
  }
  return branch;
}

/**
 * `error.type` for what a call or an attempt ended with: the error's class name (a bounded set,
 * since classes are written, not made per call), or '_OTHER' for a rejection that is no Error.
 */
export function errorType(error: unknown): string {
  if (!(error instanceof Error)) return '_OTHER';
  // A subclass that keeps Error's own name is still told apart by its constructor.
  if (error.name !== 'Error') return error.name;
  return error.constructor?.name || 'Error';
}
