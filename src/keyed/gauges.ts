import { type GaugeLabels, type GaugeSink, type GaugeSource, readGauges } from '../core/gauges.js';
import { Pipeline } from '../core/pipeline.js';
import type { Policy } from '../core/policy.js';

/** Reads one key's policy: each member of a pipeline, or the policy itself if it has state. */
export function readPolicyGauges(policy: Policy<never, unknown>, sink: GaugeSink): void {
  if (policy instanceof Pipeline) {
    for (const member of policy.policies) readPolicyGauges(member, sink);
  } else {
    const source = policy as Partial<GaugeSource>;
    if (typeof source[readGauges] === 'function') source[readGauges](sink);
  }
}

interface Sum {
  readonly kind: string;
  readonly gauge: string;
  readonly labels: GaugeLabels | undefined;
  value: number;
}

interface Count {
  readonly kind: string;
  readonly gauge: string;
  readonly labels: GaugeLabels | undefined;
  readonly keys: Map<string, number>;
}

/**
 * The state of every key of a keyed policy, folded into a few totals: numbers are summed, and
 * states become a count of keys in each state. Totals once seen stay (at zero) when the keys
 * that had them are gone, so a metrics series does not vanish and come back.
 * @internal
 */
export class KeyTotals implements GaugeSink {
  readonly #sums = new Map<string, Sum>();
  readonly #counts = new Map<string, Count>();

  value(_policy: string, kind: string, gauge: string, value: number, labels?: GaugeLabels): void {
    const id = identify(kind, gauge, labels);
    const sum = this.#sums.get(id);
    if (sum === undefined) this.#sums.set(id, { kind, gauge, labels, value });
    else sum.value += value;
  }

  state(
    _policy: string,
    kind: string,
    gauge: string,
    state: string,
    _code: number,
    states: readonly string[],
    labels?: GaugeLabels,
  ): void {
    const id = identify(kind, gauge, labels);
    let count = this.#counts.get(id);
    if (count === undefined) {
      count = { kind, gauge, labels, keys: new Map(states.map((name) => [name, 0])) };
      this.#counts.set(id, count);
    }
    count.keys.set(state, (count.keys.get(state) ?? 0) + 1);
  }

  /** Reports the totals as `policy`'s, then sets them back to zero for the next read. */
  report(policy: string, sink: GaugeSink): void {
    for (const sum of this.#sums.values()) {
      sink.value(policy, sum.kind, sum.gauge, sum.value, sum.labels);
      sum.value = 0;
    }
    for (const count of this.#counts.values()) {
      for (const [state, keys] of count.keys) {
        sink.value(policy, count.kind, 'keys', keys, { ...count.labels, [count.gauge]: state });
        count.keys.set(state, 0);
      }
    }
  }
}

function identify(kind: string, gauge: string, labels: GaugeLabels | undefined): string {
  return labels === undefined
    ? `${kind}\n${gauge}`
    : `${kind}\n${gauge}\n${JSON.stringify(labels)}`;
}
