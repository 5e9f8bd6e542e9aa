export {
  type LogStyle,
  type LogTelemetryOptions,
  logTelemetry,
  type TelemetryLogger,
  type TelemetryLogRecord,
} from './log-telemetry.js';
export type { RenderedError } from './render.js';
export type { LogLevel } from './severity.js';
