import type { EventEmitter } from 'node:events';

/**
 * What shutdown needs from a server: node:http, node:https and node:http2 servers all fit.
 * `closeIdleConnections` and `closeAllConnections` exist on HTTP/1 servers (Node >= 18.2);
 * HTTP/2 sessions are closed through the 'session' event's sessions instead.
 */
export interface ShutdownServer extends EventEmitter {
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
}

/** A server, or anything that exposes one as `server` (a Fastify instance, for one). */
export type ServerLike = ShutdownServer | { readonly server: ShutdownServer };

/** The response shape tracking relies on; an HTTP/1 response also has `shouldKeepAlive`. */
interface TrackedResponse extends EventEmitter {
  readonly headersSent?: boolean;
  shouldKeepAlive?: boolean;
  setHeader?(name: string, value: string): unknown;
  [tracker]?: ServerTracker;
}

/** An HTTP/2 session, as far as shutdown uses it. */
interface Session extends EventEmitter {
  readonly closed?: boolean;
  readonly destroyed?: boolean;
  close(): void;
  destroy(): void;
}

const tracker: unique symbol = Symbol('bulwark.shutdown.tracker');

export function isServer(value: unknown): value is ShutdownServer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ShutdownServer).close === 'function' &&
    typeof (value as ShutdownServer).prependListener === 'function' &&
    typeof (value as ShutdownServer).removeListener === 'function'
  );
}

/**
 * Counts one server's requests in flight, exactly: a request counts from its 'request' event
 * until its response emits 'close' (which follows 'finish', and also comes when the client
 * hangs up). Responses are kept in a set so the ones still unanswered when draining starts can
 * be told to close their connection too.
 */
export class ServerTracker {
  readonly server: ShutdownServer;
  readonly #responses = new Set<TrackedResponse>();
  readonly #sessions = new Set<Session>();
  /** Called whenever a request ends: the manager checks whether draining is done. */
  readonly #onIdle: () => void;
  #draining = false;
  #closed = false;

  constructor(server: ShutdownServer, onIdle: () => void) {
    this.server = server;
    this.#onIdle = onIdle;
    // First in line, so a response made while draining is marked before the handler writes it.
    server.prependListener('request', this.#onRequest);
    server.prependListener('session', this.#onSession);
  }

  /** Requests received and not yet answered (or abandoned). */
  get inFlight(): number {
    return this.#responses.size;
  }

  /**
   * From now on every response asks its client to close the connection, so keep-alive clients
   * reconnect (through the load balancer, which is about to stop choosing this instance).
   */
  startDraining(): void {
    this.#draining = true;
    for (const response of this.#responses) closeAfter(response);
  }

  /**
   * Stops accepting connections and closes the idle keep-alive ones; HTTP/2 sessions get a
   * GOAWAY (`session.close()`): their open streams finish, no new ones start.
   */
  stopAccepting(): void {
    this.#closed = true;
    this.server.close(ignore);
    this.server.closeIdleConnections?.();
    for (const session of this.#sessions) if (!session.closed) session.close();
  }

  /** Destroys every connection left, busy or not. */
  destroyAll(): void {
    this.server.closeAllConnections?.();
    for (const session of this.#sessions) if (!session.destroyed) session.destroy();
  }

  detach(): void {
    this.server.removeListener('request', this.#onRequest);
    this.server.removeListener('session', this.#onSession);
  }

  readonly #onRequest = (_request: unknown, response: TrackedResponse): void => {
    if (typeof response?.once !== 'function') return;
    response[tracker] = this;
    this.#responses.add(response);
    response.once('close', onResponseClose);
    if (this.#draining) closeAfter(response);
  };

  readonly #onSession = (session: Session): void => {
    if (typeof session?.once !== 'function') return;
    this.#sessions.add(session);
    if (this.#closed) session.close();
    session.once('close', () => this.#sessions.delete(session));
  };

  /** @internal */
  ended(response: TrackedResponse): void {
    if (this.#responses.delete(response)) this.#onIdle();
  }
}

/** One shared listener for every response: no closure per request. */
function onResponseClose(this: TrackedResponse): void {
  this[tracker]?.ended(this);
}

/**
 * HTTP/1 only (HTTP/2 forbids the header; its sessions get a GOAWAY instead): a response whose
 * headers are not out yet will carry `Connection: close`, and Node ends the socket after it.
 */
function closeAfter(response: TrackedResponse): void {
  if (response.headersSent || !('shouldKeepAlive' in response)) return;
  response.shouldKeepAlive = false;
  response.setHeader?.('connection', 'close');
}

function ignore(): void {}
