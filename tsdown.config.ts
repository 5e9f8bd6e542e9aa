import { defineConfig } from 'tsdown';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'sim/index': 'src/sim/index.ts',
    'adapters/http/index': 'src/adapters/http/index.ts',
    'adapters/otel/index': 'src/adapters/otel/index.ts',
    'adapters/prometheus/index': 'src/adapters/prometheus/index.ts',
    'chaos/index': 'src/chaos/index.ts',
    cli: 'src/cli.ts',
  },
  format: 'esm',
  platform: 'node',
  target: 'node22',
  dts: true,
  clean: true,
  sourcemap: true,
});
