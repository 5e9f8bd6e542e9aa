import { checkFunction, checkOptions, invalid } from '../../core/validate.js';
import { type Endpoint, isLoopback, parseEndpoint } from './address.js';
import { startControlApi } from './control-api.js';
import { ProxyCore, type ProxyJson } from './proxy.js';
import type { Toxic, ToxicChanges, ToxicSpec } from './toxics.js';

/** Where an endpoint option may be given as `'host:port'`, `':port'`, a port or an object. */
export type EndpointInput = string | number | { readonly host?: string; readonly port?: number };

export interface ChaosProxyOptions {
  /** Names the proxy in the control API (`/proxies/:name`). Default 'chaos-proxy'. */
  readonly name?: string;
  /** The server the proxy forwards to, e.g. '127.0.0.1:6379'. Required. */
  readonly upstream: EndpointInput;
  /** Where clients connect. Default 127.0.0.1 on a free port (see `address`). */
  readonly listen?: EndpointInput;
  /** Where the HTTP control API listens. Default 127.0.0.1 on a free port (see `controlUrl`). */
  readonly control?: EndpointInput;
  /**
   * Lets `listen` and `control` bind an interface other than loopback. Default false: anyone
   * who can reach the control API can break the traffic through the proxy.
   */
  readonly allowRemote?: boolean;
  /** Toxics to start with, as `addToxic` takes them. Default none. */
  readonly toxics?: readonly ToxicSpec[];
  /** Draws each toxic's per-connection roll against its toxicity, in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/** A running chaos proxy. Every method checks its input as the control API does. */
export interface ChaosProxy {
  readonly name: string;
  /** Where clients connect: the bound address, with the real port when 0 was asked for. */
  readonly address: Endpoint;
  readonly upstream: Endpoint;
  /** The control API's base URL, e.g. 'http://127.0.0.1:41234'. */
  readonly controlUrl: string;
  /** False while disabled: new connections are refused. */
  readonly enabled: boolean;
  /** Client connections open now. */
  readonly connections: number;
  toxics(): Toxic[];
  /** Throws a `ToxicNotFoundError` if there is none by that name. */
  toxic(name: string): Toxic;
  /** Throws a TypeError for a bad toxic, a `ToxicExistsError` if the name is taken. */
  addToxic(spec: ToxicSpec): Toxic;
  /** Changes a toxic's toxicity and attributes; it restarts on every open connection. */
  updateToxic(name: string, changes: ToxicChanges): Toxic;
  /** Throws a `ToxicNotFoundError` if there is none by that name. */
  removeToxic(name: string): void;
  /** Listens again (on the same address) after `disable()`. */
  enable(): Promise<void>;
  /** Takes the proxy down: stops listening and closes every open connection. */
  disable(): Promise<void>;
  /** Enables the proxy and removes every toxic, like Toxiproxy's `POST /reset`. */
  reset(): Promise<void>;
  toJSON(): ProxyJson;
  /** Closes the control API, the listener and every connection; nothing is left running. */
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy from `listen` to `upstream` whose traffic can be made to misbehave with
 * toxics (latency, bandwidth, slow close, timeout, reset, slicing, data limits), from code or
 * through an HTTP control API shaped like Toxiproxy's.
 */
export async function chaosProxy(options: ChaosProxyOptions): Promise<ChaosProxy> {
  const given = checkOptions<ChaosProxyOptions>('chaosProxy', options);
  const { name = 'chaos-proxy', allowRemote = false, toxics = [] } = given;
  if (typeof name !== 'string' || name === '' || name.includes('/')) {
    throw invalid('chaosProxy', 'name', name, 'a non-empty string without "/"');
  }
  if (typeof allowRemote !== 'boolean') {
    throw invalid('chaosProxy', 'allowRemote', allowRemote, 'a boolean');
  }
  if (given.upstream === undefined) {
    throw invalid('chaosProxy', 'upstream', undefined, "given, e.g. '127.0.0.1:6379'");
  }
  const upstream = parseEndpoint('upstream', given.upstream, false);
  const listen = parseEndpoint('listen', given.listen ?? 0, true);
  const control = parseEndpoint('control', given.control ?? 0, true);
  for (const [option, endpoint] of [
    ['listen', listen],
    ['control', control],
  ] as const) {
    if (!allowRemote && !isLoopback(endpoint.host)) {
      throw invalid(
        'chaosProxy',
        option,
        endpoint.host,
        'a loopback address unless allowRemote is set',
      );
    }
  }
  const random =
    given.random === undefined
      ? Math.random
      : checkFunction<() => number>('chaosProxy', 'random', given.random);
  if (!Array.isArray(toxics)) throw invalid('chaosProxy', 'toxics', toxics, 'an array of toxics');

  const core = new ProxyCore(name, listen, upstream, random);
  for (const spec of toxics) core.addToxic(spec);
  await core.enable();
  let api: Awaited<ReturnType<typeof startControlApi>>;
  try {
    api = await startControlApi(core, control);
  } catch (error) {
    await core.close();
    throw error;
  }
  let closing: Promise<void> | undefined;

  return {
    name,
    upstream,
    controlUrl: api.url,
    get address() {
      return core.address;
    },
    get enabled() {
      return core.enabled;
    },
    get connections() {
      return core.connectionCount;
    },
    toxics: () => core.toxics(),
    toxic: (toxicName) => core.toxic(toxicName),
    addToxic: (spec) => core.addToxic(spec),
    updateToxic: (toxicName, changes) => core.updateToxic(toxicName, changes),
    removeToxic: (toxicName) => core.removeToxic(toxicName),
    enable: () => core.enable(),
    disable: () => core.disable(),
    async reset() {
      await core.enable();
      core.removeAllToxics();
    },
    toJSON: () => core.toJSON(),
    close() {
      closing ??= Promise.all([api.close(), core.close()]).then(() => {});
      return closing;
    },
  };
}
