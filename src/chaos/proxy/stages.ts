import { Timers } from './timers.js';
import type { Toxic, ToxicStream } from './toxics.js';

/** What a toxic may do to the connection it applies to. */
export interface StageHost {
  /** True once the connection stopped forwarding (closed, reset or cut). */
  readonly closed: boolean;
  now(): number;
  random(): number;
  /** Ends both sides after the data already written: each peer sees the stream end. */
  finish(): void;
  /** Closes both sides at once, dropping whatever is still in flight. */
  destroy(): void;
  /** Sends a TCP RST to the peer that `stream` writes to, and closes the other side. */
  reset(stream: ToxicStream): void;
}

/** Hands a piece of data on to the next stage, with the time it would ideally leave at. */
export type Next = (piece: Buffer, at: number) => Promise<void>;

/** One toxic acting on one direction of one connection. */
export interface Stage {
  readonly toxic: Toxic;
  /** Acts on a chunk that reached this stage at `at`; calls `next` for what goes on. */
  data(chunk: Buffer, at: number, next: Next): Promise<void>;
  /** Runs before the end of the stream is passed on. */
  end?(): Promise<void>;
  /** The toxic no longer applies: its timers stop and whatever it held moves on. */
  detach(): void;
}

type Body = Omit<Stage, 'toxic' | 'detach'> & { detach?(): void };

const pass = (chunk: Buffer, at: number, next: Next): Promise<void> => next(chunk, at);

/**
 * Starts `toxic` on a connection: when the connection opens, or when the toxic is added to a
 * connection already open. A timeout toxic's countdown starts then; reset_peer's starts with
 * the first data it sees. Detaching it (the toxic removed or updated, the connection closed)
 * clears its timers, so data it held moves on.
 */
export function startStage(toxic: Toxic, host: StageHost): Stage {
  const timers = new Timers();
  const body = bodyOf(toxic, host, timers);
  let detached = false;
  return {
    toxic,
    data: body.data,
    ...(body.end === undefined ? {} : { end: body.end }),
    detach() {
      if (detached) return;
      detached = true;
      timers.clear();
      body.detach?.();
    },
  };
}

function bodyOf(toxic: Toxic, host: StageHost, timers: Timers): Body {
  switch (toxic.type) {
    case 'latency':
      return latency(toxic, host, timers);
    case 'bandwidth':
      return bandwidth(toxic, host, timers);
    case 'slow_close':
      return { data: pass, end: () => timers.sleep(toxic.attributes.delay) };
    case 'timeout':
      return timeout(toxic, host, timers);
    case 'reset_peer':
      return resetPeer(toxic, host, timers);
    case 'slicer':
      return slicer(toxic, host, timers);
    case 'limit_data':
      return limitData(toxic, host);
  }
}

type Of<T extends Toxic['type']> = Extract<Toxic, { type: T }>;

/**
 * Each chunk leaves `latency ± jitter` ms after it arrived. Chunks keep their order, so a
 * chunk drawn a shorter delay than the one before it waits for that one.
 */
function latency(toxic: Of<'latency'>, host: StageHost, timers: Timers): Body {
  const { latency: base, jitter } = toxic.attributes;
  return {
    async data(chunk, at, next) {
      const delay = jitter > 0 ? Math.max(0, base + (host.random() * 2 - 1) * jitter) : base;
      const due = at + delay;
      await timers.sleep(due - host.now());
      if (!host.closed) await next(chunk, due);
    },
  };
}

/** Lets `rate` KB/s through, in pieces of at most 100 ms' worth so the flow stays even. */
function bandwidth(toxic: Of<'bandwidth'>, host: StageHost, timers: Timers): Body {
  const { rate } = toxic.attributes;
  if (rate === 0) return { data: pass };
  const bytesPerMs = rate; // 1 KB/s = 1000 bytes per 1000 ms
  const pieceSize = Math.max(1, Math.floor(bytesPerMs * 100));
  let freeAt = 0;
  return {
    async data(chunk, at, next) {
      for (let offset = 0; offset < chunk.length && !host.closed; offset += pieceSize) {
        const piece = chunk.subarray(offset, offset + pieceSize);
        freeAt = Math.max(freeAt, at) + piece.length / bytesPerMs;
        await timers.sleep(freeAt - host.now());
        if (!host.closed) await next(piece, freeAt);
      }
    },
  };
}

/**
 * Drops all data; closes the connection after `timeout` ms, or never for 0. The end of the
 * stream still passes, as in Toxiproxy: a peer that hangs up is not held.
 */
function timeout(toxic: Of<'timeout'>, host: StageHost, timers: Timers): Body {
  const ms = toxic.attributes.timeout;
  if (ms > 0) timers.after(ms, () => host.destroy());
  let dropped = false;
  return {
    async data() {
      dropped = true;
    },
    detach: () => closeIfGap(dropped, host),
  };
}

/**
 * A toxic that dropped data leaves a gap in the stream. Once it goes, a client carrying on
 * would take the next answer for the one it lost, so the connection is closed instead.
 */
function closeIfGap(dropped: boolean, host: StageHost): void {
  if (dropped) host.destroy();
}

/**
 * Drops data from the first chunk on, and resets the connection `timeout` ms after that chunk
 * (at once for 0): a peer waiting for an answer sees the connection reset instead.
 */
function resetPeer(toxic: Of<'reset_peer'>, host: StageHost, timers: Timers): Body {
  const ms = toxic.attributes.timeout;
  let armed = false;
  return {
    async data() {
      if (armed) return;
      armed = true;
      if (ms === 0) host.reset(toxic.stream);
      else timers.after(ms, () => host.reset(toxic.stream));
    },
    detach: () => closeIfGap(armed, host),
  };
}

/** Cuts each chunk into pieces of `average_size ± size_variation` bytes, `delay` µs apart. */
function slicer(toxic: Of<'slicer'>, host: StageHost, timers: Timers): Body {
  const { average_size: average, size_variation: variation, delay } = toxic.attributes;
  return {
    async data(chunk, at, next) {
      let offset = 0;
      while (offset < chunk.length && !host.closed) {
        if (offset > 0 && delay > 0) await timers.sleep(delay / 1000);
        const size = Math.max(1, average + Math.round((host.random() * 2 - 1) * variation));
        const piece = chunk.subarray(offset, offset + size);
        offset += piece.length;
        if (!host.closed) await next(piece, Math.max(at, host.now()));
      }
    },
  };
}

/** Lets `bytes` bytes through, then ends the connection on both sides. */
function limitData(toxic: Of<'limit_data'>, host: StageHost): Body {
  const limit = toxic.attributes.bytes;
  let passed = 0;
  return {
    async data(chunk, at, next) {
      const room = limit - passed;
      if (chunk.length < room) {
        passed += chunk.length;
        return next(chunk, at);
      }
      passed = limit;
      if (room > 0) await next(chunk.subarray(0, room), at);
      host.finish();
    },
  };
}
