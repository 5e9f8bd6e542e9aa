import type { Attributes } from '@opentelemetry/api';
import type { AnyTelemetryEvent } from '../../core/events.js';
import type { TelemetryEvent } from '../../telemetry.js';

/** A span event: its name and attributes. */
export type SpanEvent = readonly [name: string, attributes: Attributes | undefined];

/**
 * The span event a policy event becomes on the span of the call it happened in, or undefined
 * for events that are not about one call, or that a policy emits outside the call's own flow
 * (a timer's, or another call's: a timeout's expiry, a shed from the queue, a queued call
 * started by another one leaving). The context active at such a moment belongs to whoever
 * armed the timer or left, so those are left out here; timeouts are told from the error they
 * end a span with instead.
 */
export function spanEventOf(event: AnyTelemetryEvent): SpanEvent | undefined {
  const known = event as TelemetryEvent;
  switch (known.kind) {
    case 'retry':
      if (known.type !== 'retry') return undefined;
      return [
        'bulwark.retry',
        {
          'bulwark.attempt.number': known.detail.attempt,
          'bulwark.retry.delay': known.detail.delayMs / 1000,
        },
      ];
    case 'circuit-breaker':
      if (known.type === 'stateChange') {
        const { from, to, reason } = known.detail;
        return [
          'bulwark.circuit_breaker.state_change',
          {
            'bulwark.circuit_breaker.from': from,
            'bulwark.circuit_breaker.to': to,
            'bulwark.circuit_breaker.reason': reason,
          },
        ];
      }
      if (known.type === 'rejected') {
        const { state, enforced } = known.detail;
        return [
          'bulwark.circuit_breaker.rejected',
          { 'bulwark.circuit_breaker.state': state, 'bulwark.circuit_breaker.enforced': enforced },
        ];
      }
      return undefined;
    case 'fallback':
      return known.type === 'fallback' ? ['bulwark.fallback', undefined] : undefined;
    case 'feature':
      if (known.type !== 'degraded') return undefined;
      return [
        'bulwark.degradation.degraded',
        { 'bulwark.degradation.reason': known.detail.reason },
      ];
    case 'load-shedder': {
      if (known.type !== 'shed') return undefined;
      const { reason, priority } = known.detail;
      // The others are decided by the queue's timer or by another call's arrival.
      if (reason !== 'capacity' && reason !== 'pressure') return undefined;
      return [
        'bulwark.load_shedder.shed',
        { 'bulwark.load_shedder.reason': reason, 'bulwark.load_shedder.priority': priority },
      ];
    }
    case 'bulkhead':
      if (known.type !== 'rejected' || known.detail.reason !== 'full') return undefined;
      return ['bulwark.bulkhead.rejected', { 'bulwark.bulkhead.reason': 'full' }];
    case 'rate-limiter':
      if (known.type !== 'limited') return undefined;
      return [
        'bulwark.rate_limiter.limited',
        { 'bulwark.rate_limiter.retry_after': known.detail.retryAfterMs / 1000 },
      ];
    case 'adaptive-throttle':
      if (known.type !== 'throttled') return undefined;
      return [
        'bulwark.adaptive_throttle.throttled',
        { 'bulwark.adaptive_throttle.probability': known.detail.probability },
      ];
    case 'cache':
      if (known.type === 'hit' || known.type === 'miss' || known.type === 'stale') {
        return [`bulwark.cache.${known.type}`, undefined];
      }
      return undefined;
    default:
      return undefined;
  }
}
