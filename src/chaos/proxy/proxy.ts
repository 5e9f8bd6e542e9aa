import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { type Endpoint, formatEndpoint } from './address.js';
import { Connection } from './connection.js';
import { ToxicExistsError, ToxicNotFoundError } from './errors.js';
import {
  type Toxic,
  type ToxicChanges,
  type ToxicSpec,
  toxicFromSpec,
  updatedToxic,
} from './toxics.js';

/** A proxy as the control API shows it (Toxiproxy's shape). */
export interface ProxyJson {
  readonly name: string;
  /** Where clients connect, 'host:port'. */
  readonly listen: string;
  /** Where the proxy connects, 'host:port'. */
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly Toxic[];
}

/**
 * The TCP side of a chaos proxy: the listening server, the open connections and the toxics.
 * Toxic changes reach open connections at once; enabling and disabling are serialized.
 */
export class ProxyCore {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly toxicsByName = new Map<string, Toxic>();
  private isEnabled = false;
  private isClosed = false;
  private bound: Endpoint;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    listen: Endpoint,
    readonly upstream: Endpoint,
    private readonly random: () => number,
  ) {
    this.bound = listen;
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /** Where clients connect; the port is the one bound once the proxy first listened. */
  get address(): Endpoint {
    return this.bound;
  }

  get enabled(): boolean {
    return this.isEnabled;
  }

  /** How many client connections are open. */
  get connectionCount(): number {
    return this.connections.size;
  }

  toxics(): Toxic[] {
    return [...this.toxicsByName.values()];
  }

  toxic(name: string): Toxic {
    const toxic = this.toxicsByName.get(name);
    if (toxic === undefined) throw new ToxicNotFoundError(this.name, name);
    return toxic;
  }

  addToxic(spec: ToxicSpec): Toxic {
    const toxic = toxicFromSpec(spec);
    if (this.toxicsByName.has(toxic.name)) throw new ToxicExistsError(this.name, toxic.name);
    this.toxicsByName.set(toxic.name, toxic);
    for (const connection of this.connections) connection.addToxic(toxic);
    return toxic;
  }

  updateToxic(name: string, changes: ToxicChanges): Toxic {
    const toxic = updatedToxic(this.toxic(name), changes);
    this.toxicsByName.set(name, toxic);
    for (const connection of this.connections) connection.replaceToxic(name, toxic.stream, toxic);
    return toxic;
  }

  removeToxic(name: string): void {
    const toxic = this.toxic(name);
    this.toxicsByName.delete(name);
    for (const connection of this.connections) {
      connection.replaceToxic(name, toxic.stream, undefined);
    }
  }

  removeAllToxics(): void {
    for (const name of [...this.toxicsByName.keys()]) this.removeToxic(name);
  }

  enable(): Promise<void> {
    return this.serialize(async () => {
      if (this.isClosed) throw new Error(`chaos proxy "${this.name}" is closed`);
      if (this.isEnabled) return;
      this.server.listen({ host: this.bound.host, port: this.bound.port, exclusive: true });
      // Rejects with the server's 'error' if the port is taken.
      await once(this.server, 'listening');
      this.bound = { host: this.bound.host, port: (this.server.address() as AddressInfo).port };
      this.isEnabled = true;
    });
  }

  /** Stops listening (new connections are refused) and closes every open connection. */
  disable(): Promise<void> {
    return this.serialize(async () => {
      if (!this.isEnabled) return;
      this.isEnabled = false;
      const closed: Promise<unknown>[] = [once(this.server, 'close')];
      this.server.close();
      for (const connection of this.connections) {
        connection.destroy();
        closed.push(connection.done);
      }
      await Promise.all(closed);
    });
  }

  /** Disables the proxy for good: `enable()` fails from now on. */
  close(): Promise<void> {
    this.isClosed = true;
    return this.disable();
  }

  toJSON(): ProxyJson {
    return {
      name: this.name,
      listen: formatEndpoint(this.bound),
      upstream: formatEndpoint(this.upstream),
      enabled: this.isEnabled,
      toxics: this.toxics(),
    };
  }

  private accept(client: Socket): void {
    if (!this.isEnabled) {
      client.destroy();
      return;
    }
    const connection = new Connection(
      client,
      this.upstream,
      this.toxicsByName.values(),
      this.random,
      (closed) => this.connections.delete(closed),
    );
    this.connections.add(connection);
  }

  private serialize(step: () => Promise<void>): Promise<void> {
    const run = this.transition.then(step);
    this.transition = run.catch(() => {});
    return run;
  }
}
