export {
  defaultShouldHedge,
  type HedgeEvents,
  type HedgeGiveUpReason,
  type HedgePredicate,
} from './call.js';
export { type HedgeOptions, HedgePolicy, hedge, type PercentileDelay } from './hedge.js';
