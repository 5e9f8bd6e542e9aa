import { describe, expect, it } from 'vitest';
import { type ChaosProxyOptions, chaosProxy } from './chaos-proxy.js';

/** Options are checked before anything listens, so none of these opens a socket. */
describe('chaosProxy options', () => {
  it.each([
    [null, 'chaosProxy: options must be an object (got null)'],
    [{}, `chaosProxy: option "upstream" must be given, e.g. '127.0.0.1:6379' (got undefined)`],
    [
      { upstream: ':1', name: 'a/b' },
      'option "name" must be a non-empty string without "/" (got "a/b")',
    ],
    [{ upstream: ':1', allowRemote: 'yes' }, 'option "allowRemote" must be a boolean (got "yes")'],
    [
      { upstream: ':1', listen: '10.1.2.3:80' },
      'option "listen" must be a loopback address unless allowRemote is set (got "10.1.2.3")',
    ],
    [
      { upstream: ':1', control: 'port' },
      `option "control" must be 'host:port', ':port' or { host, port } (got "port")`,
    ],
    [{ upstream: ':1', random: 0.5 }, 'option "random" must be a function (got 0.5)'],
    [{ upstream: ':1', toxics: {} }, 'option "toxics" must be an array of toxics (got {})'],
    [
      { upstream: ':1', toxics: [{ type: 'latency', toxicity: -1 }] },
      'toxic "toxicity" must be a number from 0 to 1 (got -1)',
    ],
  ])('refuses %j with a TypeError', async (options, message) => {
    const attempt = chaosProxy(options as unknown as ChaosProxyOptions);
    await expect(attempt).rejects.toThrow(TypeError);
    await expect(attempt).rejects.toThrow(message);
  });
});
