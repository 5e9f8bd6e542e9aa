import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  nodeHttpHandler,
  type RequestContext,
  type ResilientFetch,
} from '../../../src/adapters/http/index.js';
import type { Clock } from '../../../src/core/clock.js';
import { type Priority, TimeoutError } from '../../../src/index.js';

/** What one hop's handler saw when it started. */
export interface HopRun {
  /** The time left until the request's deadline, on the hop's clock (Infinity: no budget). */
  readonly budget: number;
  readonly priority: Priority;
  readonly headers: IncomingHttpHeaders;
}

export interface HopOptions {
  readonly name: string;
  /** The clock the hop's server and its client measure deadlines on. */
  readonly clock: Clock;
  readonly minBudgetMs: number;
  /** What the handler does before it calls on: the hop's own work. */
  readonly work: (context: RequestContext, hop: string) => Promise<void>;
  /** The next hop and the client that calls it; none for the last hop. */
  readonly next?: { readonly hop: Hop; readonly client: ResilientFetch };
  /** Every hop's abort is logged here as `${name} aborted`, in the order they happen. */
  readonly log: string[];
}

/**
 * One service of a chain: a real node:http server on 127.0.0.1 behind `nodeHttpHandler` with
 * `propagate: true`. Its handler records what it saw, does its work, then calls the next hop
 * (inheriting the request's deadline, priority and signal) and relays the answer: the status as
 * it came, the body prefixed with `${name} < `. A call that throws is answered 504 for a
 * `TimeoutError`, 502 otherwise, with the body `${name}: ${error.name}`. The last hop answers
 * `${name} ok`. Emits 'run' when its handler starts, 'settled' when it has finished.
 */
export class Hop extends EventEmitter {
  readonly runs: HopRun[] = [];
  /** What the call to the next hop threw, for each run that called on. */
  readonly failures: unknown[] = [];
  /** Requests that reached the server, whether or not the handler ran. */
  requests = 0;
  readonly url: string;
  readonly #server: Server;

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    super();
    this.#server = server;
    this.url = `http://127.0.0.1:${port}/`;
  }

  static async start(options: HopOptions): Promise<Hop> {
    const { name, clock, work, next, log } = options;
    let hop: Hop | undefined;
    const server = createServer(
      nodeHttpHandler(
        async (request, response, context) => {
          const self = hop!;
          self.runs.push({
            budget: context.deadline - clock.now(),
            priority: context.priority,
            headers: request.headers,
          });
          context.signal.addEventListener('abort', () => log.push(`${name} aborted`));
          self.emit('run', context);
          try {
            await work(context, name);
            if (context.signal.aborted) return;
            if (next === undefined) {
              response.end(`${name} ok`);
              return;
            }
            try {
              const answer = await next.client(next.hop.url);
              response.statusCode = answer.status;
              response.end(`${name} < ${await answer.text()}`);
            } catch (error) {
              self.failures.push(error);
              if (context.signal.aborted) return;
              response.statusCode = error instanceof TimeoutError ? 504 : 502;
              response.end(`${name}: ${(error as Error).name}`);
            }
          } finally {
            self.emit('settled');
          }
        },
        { propagate: true, minBudgetMs: options.minBudgetMs, clock },
      ),
    );
    server.on('request', () => hop!.requests++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    hop = new Hop(server, port);
    return hop;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
