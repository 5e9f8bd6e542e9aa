import { parseArgs } from 'node:util';
import { formatEndpoint } from './address.js';
import { chaosProxy } from './chaos-proxy.js';

export const CHAOS_PROXY_USAGE = `Usage: bulwark chaos-proxy --upstream host:port [options]

A TCP proxy whose traffic can be made to misbehave (latency, bandwidth, resets, ...) through
an HTTP control API shaped like Toxiproxy's.

Options:
  --upstream host:port   the server to forward to (required); a bare :port means 127.0.0.1
  --listen [host]:port   where clients connect (default 127.0.0.1 on a free port)
  --control [host]:port  where the control API listens (default 127.0.0.1 on a free port)
  --name name            the proxy's name in the control API (default chaos-proxy)
  --allow-remote         allow --listen and --control on an interface other than loopback
  -h, --help             show this help

Example:
  bulwark chaos-proxy --listen :26379 --upstream 127.0.0.1:6379 --control :8474
  curl -X POST localhost:8474/proxies/chaos-proxy/toxics \\
    -d '{"type":"latency","attributes":{"latency":200}}'

Stops on SIGINT or SIGTERM.`;

/** Where the command writes, and the process signals it stops on. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Resolves with the first stop signal. */
  readonly stopSignal: () => Promise<string>;
}

/**
 * `bulwark chaos-proxy`: runs a proxy until a stop signal, then closes it. Resolves with the
 * exit code: 0 when stopped, 2 for bad flags, 1 if the proxy could not start.
 */
export async function runChaosProxyCommand(args: readonly string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(args).values;
  } catch (error) {
    io.err(`bulwark chaos-proxy: ${(error as Error).message}`);
    io.err('Run "bulwark chaos-proxy --help" for the options.');
    return 2;
  }
  if (values.help === true) {
    io.out(CHAOS_PROXY_USAGE);
    return 0;
  }
  if (values.upstream === undefined) {
    io.err('bulwark chaos-proxy: --upstream host:port is required');
    io.err('Run "bulwark chaos-proxy --help" for the options.');
    return 2;
  }
  const stop = io.stopSignal();
  let proxy: Awaited<ReturnType<typeof chaosProxy>>;
  try {
    proxy = await chaosProxy({
      upstream: values.upstream,
      ...(values.listen === undefined ? {} : { listen: values.listen }),
      ...(values.control === undefined ? {} : { control: values.control }),
      ...(values.name === undefined ? {} : { name: values.name }),
      allowRemote: values['allow-remote'] === true,
    });
  } catch (error) {
    // Option errors name the flag, e.g. `--listen must be a loopback address unless
    // --allow-remote is set`; anything else (a port in use) is a failure to start.
    const message = (error as Error).message
      .replace(/^chaosProxy: /, '')
      .replace(/option "(\w+)"/, '--$1')
      .replace('allowRemote', '--allow-remote');
    io.err(`bulwark chaos-proxy: ${message}`);
    return error instanceof TypeError ? 2 : 1;
  }
  io.out(
    `chaos proxy "${proxy.name}": ${formatEndpoint(proxy.address)} -> ${formatEndpoint(proxy.upstream)}`,
  );
  io.out(`control API: ${proxy.controlUrl}`);
  const signal = await stop;
  io.out(`${signal}: stopping`);
  await proxy.close();
  io.out('stopped');
  return 0;
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      upstream: { type: 'string' },
      listen: { type: 'string' },
      control: { type: 'string' },
      name: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
