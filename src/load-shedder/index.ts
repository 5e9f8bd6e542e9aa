export type {
  LoadShedderDequeueResult,
  LoadShedderEvents,
  LoadShedderPriorityStats,
  LoadShedderStats,
} from './events.js';
export { LoadShedderPolicy, loadShedder } from './load-shedder.js';
export {
  type CodelOptions,
  defaultThresholds,
  type LoadShedderOptions,
  type PressureOptions,
} from './options.js';
export { type PressureReading, processPressure } from './pressure.js';
