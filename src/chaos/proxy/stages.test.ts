import { describe, expect, it } from 'vitest';
import { type StageHost, startStage } from './stages.js';
import { type ToxicSpec, toxicFromSpec } from './toxics.js';

/** A connection that records what the stages do to it. */
function fakeHost(): StageHost & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    closed: false,
    now: () => 0,
    random: () => 0.5,
    finish: () => calls.push('finish'),
    destroy: () => calls.push('destroy'),
    reset: (stream) => calls.push(`reset ${stream}`),
  };
}

/** Runs `chunks` through a stage of `spec`, returning what came out of it. */
async function through(spec: ToxicSpec, host: StageHost, chunks: string[]) {
  const stage = startStage(toxicFromSpec(spec), host);
  const out: string[] = [];
  for (const chunk of chunks) {
    await stage.data(Buffer.from(chunk), 0, async (piece) => {
      out.push(piece.toString());
    });
  }
  return { stage, out };
}

describe('toxic stages', () => {
  it('limit_data passes exactly its bytes, then ends the connection', async () => {
    const host = fakeHost();
    const { out } = await through({ type: 'limit_data', attributes: { bytes: 5 } }, host, [
      'abc',
      'defg',
    ]);
    expect(out).toEqual(['abc', 'de']);
    expect(host.calls).toEqual(['finish']);
  });

  it('slicer cuts a chunk into pieces of its size', async () => {
    const host = fakeHost();
    const spec: ToxicSpec = { type: 'slicer', attributes: { average_size: 3 } };
    expect((await through(spec, host, ['abcdefghij'])).out).toEqual(['abc', 'def', 'ghi', 'j']);
  });

  it('timeout drops data; removed after dropping some, it closes the connection', async () => {
    const quiet = fakeHost();
    const untouched = await through({ type: 'timeout' }, quiet, []);
    untouched.stage.detach();
    expect(quiet.calls).toEqual([]);

    const host = fakeHost();
    const { stage, out } = await through({ type: 'timeout' }, host, ['lost']);
    expect(out).toEqual([]);
    stage.detach();
    stage.detach();
    expect(host.calls).toEqual(['destroy']);
  });

  it('reset_peer with timeout 0 drops the first chunk and resets the peer of its stream', async () => {
    const host = fakeHost();
    const spec: ToxicSpec = { type: 'reset_peer', stream: 'upstream' };
    const { out } = await through(spec, host, ['hello']);
    expect(out).toEqual([]);
    expect(host.calls).toEqual(['reset upstream']);
  });

  it('latency 0, bandwidth 0 and slow_close pass data untouched', async () => {
    for (const spec of [
      { type: 'latency' },
      { type: 'bandwidth' },
      { type: 'slow_close' },
    ] as const) {
      expect((await through(spec, fakeHost(), ['a', 'b'])).out).toEqual(['a', 'b']);
    }
  });
});
