export { ShutdownGuardPolicy } from './guard.js';
export type { ServerLike, ShutdownServer } from './servers.js';
export {
  GracefulShutdown,
  gracefulShutdown,
  type ShutdownEvents,
  type ShutdownHook,
  type ShutdownHookOptions,
  type ShutdownOptions,
  type ShutdownState,
} from './shutdown.js';
