import { describe, expect, it } from 'vitest';
import {
  BrokenCircuitError,
  HedgeLostError,
  RateLimitedError,
  TimeoutError,
} from '../../../core/errors.js';
import { failure, success } from '../../../core/outcome.js';
import { classifyHttp, policyClassifier } from './classify.js';
import { networkErrorKind } from './network-errors.js';

function status(code: number): Response {
  return new Response(null, { status: code });
}

function systemError(code: string): Error {
  return Object.assign(new Error(code), { code });
}

/** How Node's fetch reports a failed exchange: the real error in `cause`. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

describe('classifyHttp', () => {
  it.each([
    [200, 'success'],
    [204, 'success'],
    [304, 'success'],
    [400, 'success'],
    [404, 'success'],
    [409, 'success'],
    [408, 'retryable'],
    [429, 'retryable'],
    [500, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
    [504, 'retryable'],
    [501, 'failure'],
  ])('status %i is %s', (code, verdict) => {
    expect(classifyHttp(status(code))).toBe(verdict);
  });

  it("calls a bulwark server's 504 for a spent budget a failure: a resend would carry no more", () => {
    const refused = new Response('no time budget left', {
      status: 504,
      headers: { 'x-deadline-exceeded': '1' },
    });
    expect(classifyHttp(refused)).toBe('failure');
    expect(classifyHttp(new Response('upstream slow', { status: 504 }))).toBe('retryable');
  });

  it('finds network errors down the cause chain and in AggregateErrors', () => {
    expect(classifyHttp(fetchFailed(systemError('ECONNREFUSED')))).toBe('retryable');
    expect(
      classifyHttp(fetchFailed(new Error('wrapped', { cause: systemError('ECONNRESET') }))),
    ).toBe('retryable');
    const many = new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')]);
    expect(classifyHttp(fetchFailed(many))).toBe('retryable');
    expect(classifyHttp(fetchFailed(systemError('UND_ERR_HEADERS_TIMEOUT')))).toBe('retryable');
    expect(classifyHttp(fetchFailed(systemError('UND_ERR_SOCKET')))).toBe('retryable');
    expect(classifyHttp(systemError('ENOTFOUND'))).toBe('retryable');
    expect(classifyHttp(fetchFailed(undefined))).toBe('retryable');
  });

  it('calls errors a retry would meet again failures', () => {
    expect(classifyHttp(new TypeError('Failed to parse URL from nope'))).toBe('failure');
    expect(classifyHttp(fetchFailed(systemError('CERT_HAS_EXPIRED')))).toBe('failure');
    expect(classifyHttp(fetchFailed(systemError('UND_ERR_INVALID_ARG')))).toBe('failure');
    expect(classifyHttp(new Error('boom'))).toBe('failure');
    expect(classifyHttp('a string')).toBe('failure');
  });

  it("leaves refusals and aborts to the policies' own rules", () => {
    expect(classifyHttp(new TimeoutError(10))).toBeUndefined();
    expect(classifyHttp(new BrokenCircuitError())).toBeUndefined();
    expect(classifyHttp(new HedgeLostError(2))).toBeUndefined();
    expect(classifyHttp(new DOMException('The operation was aborted.', 'AbortError'))).toBe(
      undefined,
    );
  });
});

describe('networkErrorKind', () => {
  it('tells errors before sending from errors after', () => {
    expect(networkErrorKind(fetchFailed(systemError('ECONNREFUSED')))).toBe('unsent');
    expect(networkErrorKind(fetchFailed(systemError('UND_ERR_CONNECT_TIMEOUT')))).toBe('unsent');
    expect(networkErrorKind(fetchFailed(systemError('EAI_AGAIN')))).toBe('unsent');
    expect(networkErrorKind(fetchFailed(systemError('ECONNRESET')))).toBe('maybe-sent');
    const mixed = new AggregateError([systemError('ECONNREFUSED'), systemError('ETIMEDOUT')]);
    expect(networkErrorKind(fetchFailed(mixed))).toBe('maybe-sent');
  });
});

describe('policyClassifier', () => {
  const network = fetchFailed(systemError('ECONNRESET'));
  const refused = fetchFailed(systemError('ECONNREFUSED'));

  it('for a repeatable request, judges by the table', () => {
    const judge = policyClassifier(undefined, true);
    expect(judge(success(status(503)))).toBe('retryable');
    expect(judge(failure(network))).toBe('retryable');
    expect(judge(failure(new TimeoutError(5)))).toBeUndefined();
  });

  it('for a request sent at most once, turns what the server may have seen into a failure', () => {
    const judge = policyClassifier(undefined, false);
    expect(judge(success(status(503)))).toBe('failure');
    expect(judge(success(status(429)))).toBe('failure');
    expect(judge(success(status(404)))).toBe('success');
    expect(judge(failure(network))).toBe('failure');
    expect(judge(failure(new TimeoutError(5)))).toBe('failure');
  });

  it('still lets a request that was never sent be tried again', () => {
    const judge = policyClassifier(undefined, false);
    expect(judge(failure(refused))).toBe('retryable');
    expect(judge(failure(new RateLimitedError('limited', 10, 1, 0, undefined)))).toBeUndefined();
  });

  it("uses the user's classify first and the table where it answers undefined", () => {
    const judge = policyClassifier(
      (target) => (target instanceof Response && target.status === 404 ? 'retryable' : undefined),
      true,
    );
    expect(judge(success(status(404)))).toBe('retryable');
    expect(judge(success(status(503)))).toBe('retryable');
    expect(judge(success(status(200)))).toBe('success');
    const once = policyClassifier(() => 'retryable', false);
    expect(once(success(status(404)))).toBe('failure');
  });

  it('refuses an answer that is not a verdict', () => {
    const judge = policyClassifier(() => 'retry' as never, true);
    expect(() => judge(success(status(503)))).toThrow(
      /option "classify" returned "retry"; expected 'success', 'retryable', 'failure' or undefined/,
    );
    const async = policyClassifier((async () => 'success') as never, true);
    expect(() => async(success(status(200)))).toThrow(/option "classify" returned/);
  });
});
