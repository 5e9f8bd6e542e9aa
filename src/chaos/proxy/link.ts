import type { Socket } from 'node:net';
import type { Stage } from './stages.js';

/** Bytes held in a link's queue before it stops reading from its source. */
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

interface Arrival {
  readonly chunk: Buffer;
  readonly at: number;
}

/** The end of the source's stream, queued behind its data. */
const END = null;

interface LinkOwner {
  readonly closed: boolean;
  now(): number;
  destroy(): void;
}

/**
 * One direction of a proxied connection: reads from `source`, passes each chunk through the
 * stages of the toxics that apply, in the order they were added, and writes what comes out to
 * `target`. Chunks go through one at a time, so order is kept whatever the toxics do. With no
 * toxic and nothing queued, chunks go straight through.
 */
export class Link {
  private stages: readonly Stage[] = [];
  private readonly queue: (Arrival | typeof END)[] = [];
  private queuedBytes = 0;
  private pumping = false;

  constructor(
    private readonly source: Socket,
    private readonly target: Socket,
    private readonly owner: LinkOwner,
  ) {
    source.on('data', (chunk: Buffer) => this.receive(chunk));
    source.on('end', () => this.enqueue(END));
  }

  add(stage: Stage): void {
    this.stages = [...this.stages, stage];
  }

  /** Replaces the stage of toxic `name` (in place) with `stage`, or removes it. */
  replace(name: string, stage: Stage | undefined): void {
    const old = this.stages.find((each) => each.toxic.name === name);
    if (old === undefined) {
      if (stage !== undefined) this.add(stage);
      return;
    }
    old.detach();
    this.stages =
      stage === undefined
        ? this.stages.filter((each) => each !== old)
        : this.stages.map((each) => (each === old ? stage : each));
  }

  detachAll(): void {
    const stages = this.stages;
    this.stages = [];
    for (const stage of stages) stage.detach();
  }

  private receive(chunk: Buffer): void {
    if (this.stages.length === 0 && !this.pumping) {
      if (!this.target.write(chunk)) {
        this.source.pause();
        this.target.once('drain', () => this.source.resume());
      }
      return;
    }
    this.enqueue({ chunk, at: this.owner.now() });
  }

  private enqueue(item: Arrival | typeof END): void {
    this.queue.push(item);
    if (item !== END) {
      this.queuedBytes += item.chunk.length;
      if (this.queuedBytes > HIGH_WATER) this.source.pause();
    }
    // A toxic that fails (it should not) ends the connection rather than the process.
    if (!this.pumping) this.pump().catch(() => this.owner.destroy());
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.queue.length > 0 && !this.owner.closed) {
      const item = this.queue.shift()!;
      if (item === END) {
        await this.end();
        continue;
      }
      await this.pass(this.stages, 0, item.chunk, item.at);
      this.queuedBytes -= item.chunk.length;
      if (this.queuedBytes < LOW_WATER && this.source.isPaused()) this.source.resume();
    }
    this.queue.length = 0;
    this.pumping = false;
  }

  /** Runs `chunk` through `stages` from `index`, skipping any removed while it was on its way. */
  private pass(stages: readonly Stage[], index: number, chunk: Buffer, at: number): Promise<void> {
    let position = index;
    while (position < stages.length && !this.stages.includes(stages[position]!)) position++;
    const stage = stages[position];
    if (stage === undefined) return this.deliver(chunk);
    return stage.data(chunk, at, (piece, pieceAt) =>
      this.pass(stages, position + 1, piece, pieceAt),
    );
  }

  private async end(): Promise<void> {
    for (const stage of this.stages) {
      if (stage.end !== undefined) await stage.end();
    }
    if (!this.owner.closed && !this.target.destroyed) this.target.end();
  }

  private async deliver(piece: Buffer): Promise<void> {
    const target = this.target;
    if (this.owner.closed || target.destroyed || target.writableEnded) return;
    if (target.write(piece)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        target.off('drain', done);
        target.off('close', done);
        resolve();
      };
      target.on('drain', done);
      target.on('close', done);
    });
  }
}
