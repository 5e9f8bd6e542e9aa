import { describe, expect, it } from 'vitest';
import { retry } from '../../../retry/retry.js';
import { resilientFetch } from './fetch.js';

const policy = retry();

describe('resilientFetch options', () => {
  it('needs a policy', () => {
    expect(() => resilientFetch(undefined as never)).toThrow(
      'resilientFetch: options must be an object with a "policy" (got undefined)',
    );
    expect(() => resilientFetch({} as never)).toThrow(
      'resilientFetch: option "policy" must be a policy (an object with an execute() method) (got undefined)',
    );
    expect(() => resilientFetch({ policy: () => 1 } as never)).toThrow(/option "policy"/);
    expect(() => resilientFetch(5 as never)).toThrow(/options must be an object/);
  });

  it.each([
    ['fetch', 'nope', /option "fetch" must be a function \(got "nope"\)/],
    ['baseUrl', 'not a url', /option "baseUrl" must be an absolute URL/],
    ['baseUrl', 42, /option "baseUrl" must be an absolute URL/],
    ['classify', {}, /option "classify" must be a function/],
    ['retryMethods', 'GET', /option "retryMethods" must be an array of HTTP method names/],
    ['retryMethods', ['GET', 'BAD METHOD'], /option "retryMethods"/],
    ['throwOnFailure', 'yes', /option "throwOnFailure" must be a boolean/],
    ['deadlineHeader', true, /option "deadlineHeader" must be a header name or false/],
    ['deadlineHeader', 'x bad', /option "deadlineHeader"/],
    ['priorityHeader', '', /option "priorityHeader"/],
    ['deadlineMarginMs', -1, /option "deadlineMarginMs" must be a number of milliseconds >= 0/],
    ['deadlineMarginMs', Number.NaN, /option "deadlineMarginMs"/],
    ['clock', { now: () => 0 }, /option "clock" must be a Clock/],
  ])('refuses %s = %o', (option, value, message) => {
    expect(() => resilientFetch({ policy, [option]: value })).toThrow(message);
    expect(() => resilientFetch({ policy, [option]: value })).toThrow(TypeError);
  });

  it('takes every option at a valid value', () => {
    const client = resilientFetch({
      policy,
      fetch: globalThis.fetch,
      baseUrl: new URL('http://127.0.0.1/api/'),
      classify: () => undefined,
      retryMethods: ['get', 'POST'],
      throwOnFailure: true,
      deadlineHeader: false,
      priorityHeader: 'X-Priority',
      deadlineMarginMs: 0,
    });
    expect(typeof client).toBe('function');
  });

  it('rejects, rather than throws, on arguments fetch would refuse', async () => {
    const client = resilientFetch({ policy });
    const call = client('http://127.0.0.1/', { headers: [['bad header', 'x']] });
    await expect(call).rejects.toThrow(TypeError);
  });
});
