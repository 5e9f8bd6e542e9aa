export {
  type BulkheadDequeueResult,
  type BulkheadEvents,
  type BulkheadOptions,
  BulkheadPolicy,
  type BulkheadRejectReason,
  bulkhead,
} from './bulkhead.js';
export {
  BulkheadGroup,
  type BulkheadGroupOptions,
  type BulkheadPoolOptions,
  type BulkheadPoolStats,
  bulkheadGroup,
} from './group.js';
