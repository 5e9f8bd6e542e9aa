export type { Endpoint } from './address.js';
export {
  type ChaosProxy,
  type ChaosProxyOptions,
  chaosProxy,
  type EndpointInput,
} from './chaos-proxy.js';
export { ToxicExistsError, ToxicNotFoundError } from './errors.js';
export type { ProxyJson } from './proxy.js';
export {
  TOXIC_DEFAULTS,
  type Toxic,
  type ToxicAttributesByType,
  type ToxicChanges,
  type ToxicSpec,
  type ToxicStream,
  type ToxicType,
} from './toxics.js';
