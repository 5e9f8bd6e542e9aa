/**
 * What graceful shutdown needs from a health registry: a way to make readiness fail, so the
 * platform stops sending traffic before the service stops accepting it. `healthRegistry()`
 * satisfies it; so can anything of your own.
 */
export interface ReadinessControl {
  /** From now on, readiness reports `fail` with `reason`, whatever its checks say. */
  markNotReady(reason: string): void;
}
