import { describe, expect, it } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  LoadShedError,
  RateLimitedError,
  ShuttingDownError,
  TimeoutError,
} from '../../../core/errors.js';
import { refusal } from './answers.js';

describe('refusal answers', () => {
  it('maps each refusal to its status, with Retry-After from its hint or the fallback', () => {
    const shed = new LoadShedError('shed', 'capacity', 'critical', 2100);
    expect(refusal(shed, 1000)).toMatchObject({ status: 503, headers: { 'retry-after': '3' } });
    const full = new BulkheadRejectedError('full', 1, 0);
    expect(refusal(full, 1000)).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    const open = new BrokenCircuitError('open', 0);
    expect(refusal(open, 5000)).toMatchObject({ status: 503, headers: { 'retry-after': '0' } });
    const limited = new RateLimitedError('limited', 400, 1, 0, undefined);
    expect(refusal(limited, 1000)).toMatchObject({ status: 429, headers: { 'retry-after': '1' } });
    expect(refusal(new TimeoutError(100), 1000)?.status).toBe(504);
  });

  it('asks the client to close the connection when shutting down', () => {
    expect(refusal(new ShuttingDownError(), 1000)?.headers).toMatchObject({
      connection: 'close',
      'retry-after': '1',
    });
  });

  it('leaves an error that is no refusal to the caller', () => {
    expect(refusal(new Error('bug'), 1000)).toBeUndefined();
    expect(refusal(new DOMException('gone', 'AbortError'), 1000)).toBeUndefined();
  });
});
