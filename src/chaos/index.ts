export type { Random } from '../sim/random.js';
export { type ChaosBehavior, type ChaosBehaviorOptions, ChaosBehaviorPolicy } from './behavior.js';
export { chaos } from './chaos.js';
export {
  type ChaosEnabled,
  type ChaosEvents,
  type ChaosOptions,
  ChaosPolicy,
  type InjectionRate,
} from './chaos-policy.js';
export { type ChaosFaultOptions, ChaosFaultPolicy, type FaultError } from './fault.js';
export { type ChaosLatencyOptions, ChaosLatencyPolicy, type InjectedLatency } from './latency.js';
export {
  type ChaosExperiment,
  ChaosMonkey,
  type ChaosMonkeyOptions,
  chaosMonkey,
} from './monkey.js';
export { type ChaosOutcomeOptions, ChaosOutcomePolicy, type OutcomeValue } from './outcome.js';
export * from './proxy/index.js';
export type { AbsoluteWindow, DailyWindow, ScheduleWindow, Weekday } from './schedule.js';
