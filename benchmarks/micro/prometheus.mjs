import { work } from '../lib/tasks.mjs';
import { bulwarkPipeline, bulwarkPipelineLabel } from './pipeline.mjs';

/**
 * The cost of exporting metrics: the four-policy pipeline with nothing listening, beside the
 * same pipeline while `prometheusMetrics()` is attached to a prom-client registry (every call
 * then emits its events and the adapter counts them). Scrapes are not measured: they cost per
 * series, not per call.
 */
const quietLabel = `${bulwarkPipelineLabel}, nothing attached`;

export default [
  {
    id: 'pipeline-prometheus',
    title: 'four-policy pipeline with bulwark/prometheus attached, beside nothing attached',
    cases: [
      {
        library: 'bulwark',
        label: quietLabel,
        make({ bulwark }) {
          const policy = bulwarkPipeline(bulwark);
          return () => policy.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: `${bulwarkPipelineLabel} + telemetry.subscribe(() => {}, { executions: true, attempts: false })`,
        make({ bulwark }) {
          const policy = bulwarkPipeline(bulwark);
          let dispose;
          // What the adapter asks of the core, with a listener that does nothing: the share of
          // the cost that is the execution events themselves.
          return {
            run: () => policy.execute(work),
            attach: () => {
              dispose = bulwark.telemetry.subscribe(() => {}, {
                executions: true,
                attempts: false,
              });
            },
            detach: () => dispose(),
          };
        },
      },
      {
        library: 'bulwark',
        label: `${bulwarkPipelineLabel} + prometheusMetrics({ registry })`,
        make({ bulwark, bulwarkPrometheus, promClient }) {
          const policy = bulwarkPipeline(bulwark);
          const registry = new promClient.Registry();
          let detach;
          // The bus is global: attach only while this case is measured.
          return {
            run: () => policy.execute(work),
            attach: () => {
              detach = bulwarkPrometheus.prometheusMetrics({ registry });
            },
            detach: () => detach(),
          };
        },
        budget: {
          id: 'pipeline-prometheus',
          text: '4-policy pipeline with prometheusMetrics attached ≤2× the same with nothing attached',
          relativeTo: { label: quietLabel, short: 'nothing attached', factor: 2 },
        },
      },
    ],
  },
];
