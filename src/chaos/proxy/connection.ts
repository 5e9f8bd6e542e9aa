import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from './address.js';
import { Link } from './link.js';
import { type StageHost, startStage } from './stages.js';
import type { Toxic, ToxicStream } from './toxics.js';

/**
 * One client connection and its own connection to the upstream server, with a link per
 * direction: 'upstream' carries the client's bytes to the server, 'downstream' the server's
 * bytes back. Each toxic's toxicity is rolled once, when it starts applying to the connection.
 */
export class Connection implements StageHost {
  private stopped = false;
  private openSockets = 2;
  private readonly upstreamSocket: Socket;
  private readonly links: Readonly<Record<ToxicStream, Link>>;
  private markDone = () => {};
  /** Settles once both sockets are closed. */
  readonly done = new Promise<void>((resolve) => {
    this.markDone = resolve;
  });

  constructor(
    private readonly client: Socket,
    upstream: Endpoint,
    toxics: Iterable<Toxic>,
    readonly random: () => number,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    this.upstreamSocket = connect({
      host: upstream.host,
      port: upstream.port,
      allowHalfOpen: true,
    });
    this.links = {
      upstream: new Link(client, this.upstreamSocket, this),
      downstream: new Link(this.upstreamSocket, client, this),
    };
    for (const socket of [client, this.upstreamSocket]) {
      // A failure on either side (upstream refused, a peer's reset) ends both.
      socket.on('error', () => this.destroy());
      socket.on('close', () => {
        this.openSockets--;
        if (this.openSockets === 0) this.closedDown();
      });
    }
    for (const toxic of toxics) this.addToxic(toxic);
  }

  get closed(): boolean {
    return this.stopped;
  }

  addToxic(toxic: Toxic): void {
    if (this.stopped) return;
    if (this.random() < toxic.toxicity) this.links[toxic.stream].add(startStage(toxic, this));
  }

  /** Replaces a toxic by its new version (its toxicity rolled again), or removes it. */
  replaceToxic(name: string, stream: ToxicStream, toxic: Toxic | undefined): void {
    const applies = toxic !== undefined && !this.stopped && this.random() < toxic.toxicity;
    this.links[stream].replace(name, applies ? startStage(toxic, this) : undefined);
  }

  now(): number {
    return performance.now();
  }

  finish(): void {
    if (!this.stop()) return;
    for (const socket of [this.client, this.upstreamSocket]) {
      socket.end();
      // Half-open sockets wait for the peer's FIN; once ours is out, nothing more is wanted.
      socket.once('finish', () => socket.destroy());
    }
  }

  destroy(): void {
    if (!this.stop()) return;
    this.client.destroy();
    this.upstreamSocket.destroy();
  }

  reset(stream: ToxicStream): void {
    if (!this.stop()) return;
    const [peer, other] =
      stream === 'downstream'
        ? [this.client, this.upstreamSocket]
        : [this.upstreamSocket, this.client];
    peer.resetAndDestroy();
    other.destroy();
  }

  /** Stops forwarding and every toxic's timers. False if already stopped. */
  private stop(): boolean {
    if (this.stopped) return false;
    this.stopped = true;
    this.links.upstream.detachAll();
    this.links.downstream.detachAll();
    return true;
  }

  /** Both sockets are closed, whichever way they got there. */
  private closedDown(): void {
    this.stop();
    this.onClosed(this);
    this.markDone();
  }
}
