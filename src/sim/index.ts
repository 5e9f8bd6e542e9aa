export {
  type AbandonMode,
  type DependencyChange,
  type DependencyCounters,
  type DependencyModel,
  type DependencyOptions,
  type DependencyState,
  dependency,
} from './dependency.js';
export { type Distribution, latency } from './distributions.js';
export { DeadlineExceededError, DependencyError, type DependencyFailure } from './errors.js';
export { formatPriorities, formatResults, formatSeries } from './format.js';
export {
  type ClosedLoop,
  type ClosedLoopOptions,
  closedLoop,
  type KeyMix,
  type Load,
  type OpenLoop,
  type OpenLoopOptions,
  openLoop,
  type PriorityMix,
} from './load.js';
export { createRandom, type Random } from './random.js';
export { type RatePoint, RateSchedule, rate } from './rate.js';
export type { PriorityResult, SimulationResult } from './result.js';
export {
  type SimulatedPolicy,
  type SimulateOptions,
  type SimulationEnvironment,
  simulate,
} from './simulate.js';
export type { Percentiles, SeriesBucket } from './stats.js';
