import { work } from '../lib/tasks.mjs';

/**
 * Chaos left in the code but switched off must cost nothing: `enabled: false` takes a chaos
 * policy or monkey out of the chain, so a call costs what `execute()` alone costs. The rows
 * switched off per call (`enabled: () => false`) and on at rate 0 show what asking costs.
 */
const disabled = (id, text) => ({ id, text: `${text} ≤1.2× bare`, maxRatio: 1.2 });
const error = new Error('injected');

export default [
  {
    id: 'chaos-disabled',
    title: 'chaos policies and the monkey switched off',
    cases: [
      {
        library: 'bulwark',
        label: 'pipeline() with no policies: the cost of execute() alone',
        make({ bulwark }) {
          const empty = bulwark.pipeline();
          return () => empty.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: 'chaos.fault({ enabled: false })',
        make({ bulwarkChaos: { chaos } }) {
          const policy = chaos.fault({ enabled: false, rate: 1, error });
          return () => policy.execute(work);
        },
        budget: disabled('chaos-disabled', 'chaos policy with enabled: false'),
      },
      {
        library: 'bulwark',
        label: 'chaosMonkey({ enabled: false }), 3 experiments',
        make({ bulwarkChaos: { chaos, chaosMonkey } }) {
          const monkey = chaosMonkey({
            enabled: false,
            experiments: [
              { name: 'fault', probability: 0.1, impact: chaos.fault({ error }) },
              { name: 'latency', probability: 0.1, impact: chaos.latency({ ms: 1 }) },
              { name: 'outcome', probability: 0.1, impact: chaos.outcome({ value: 0 }) },
            ],
          });
          return () => monkey.execute(work);
        },
        budget: disabled('chaos-monkey-disabled', 'chaos monkey with enabled: false'),
      },
      {
        library: 'bulwark',
        label: 'chaos.fault({ enabled: () => false }): asked per call',
        make({ bulwarkChaos: { chaos } }) {
          const policy = chaos.fault({ enabled: () => false, rate: 1, error });
          return () => policy.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: 'chaos.fault({ rate: 0 }): on, one random draw per call',
        make({ bulwarkChaos: { chaos } }) {
          const policy = chaos.fault({ rate: 0, error });
          return () => policy.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: 'pipeline(retry(), chaos.fault({ enabled: false }))',
        make({ bulwark, bulwarkChaos: { chaos } }) {
          const policy = bulwark.pipeline(
            bulwark.retry({ maxAttempts: 3 }),
            chaos.fault({ enabled: false, rate: 1, error }),
          );
          return () => policy.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: 'retry({ maxAttempts: 3 }) alone, for the row above',
        make({ bulwark }) {
          const policy = bulwark.retry({ maxAttempts: 3 });
          return () => policy.execute(work);
        },
      },
    ],
  },
];
