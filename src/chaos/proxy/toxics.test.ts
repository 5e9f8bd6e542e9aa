import { describe, expect, it } from 'vitest';
import { TOXIC_DEFAULTS, toxicFromSpec, updatedToxic } from './toxics.js';

describe('toxicFromSpec', () => {
  it('fills in the name, stream, toxicity and attribute defaults', () => {
    expect(toxicFromSpec({ type: 'latency' })).toEqual({
      name: 'latency_downstream',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 0, jitter: 0 },
    });
    expect(
      toxicFromSpec({ type: 'slicer', stream: 'upstream', attributes: { delay: 10 } }),
    ).toEqual({
      name: 'slicer_upstream',
      type: 'slicer',
      stream: 'upstream',
      toxicity: 1,
      attributes: { average_size: 64, size_variation: 0, delay: 10 },
    });
  });

  it('has a default for every attribute of every type', () => {
    expect(TOXIC_DEFAULTS).toEqual({
      latency: { latency: 0, jitter: 0 },
      bandwidth: { rate: 0 },
      slow_close: { delay: 0 },
      timeout: { timeout: 0 },
      reset_peer: { timeout: 0 },
      slicer: { average_size: 64, size_variation: 0, delay: 0 },
      limit_data: { bytes: 0 },
    });
  });

  it.each([
    [null, 'a toxic must be an object with a "type" (got null)'],
    [{ type: 'fire' }, 'toxic "type" must be one of latency, bandwidth'],
    [
      { type: 'latency', stream: 'both' },
      `toxic "stream" must be 'upstream' or 'downstream' (got "both")`,
    ],
    [{ type: 'latency', toxicity: 2 }, 'toxic "toxicity" must be a number from 0 to 1 (got 2)'],
    [{ type: 'latency', name: '' }, 'toxic "name" must be a non-empty string (got "")'],
    [{ type: 'latency', colour: 'red' }, 'a toxic has no field "colour"'],
    [
      { type: 'latency', attributes: { latency: -5 } },
      'latency attribute "latency" must be a number of ms >= 0 (got -5)',
    ],
    [
      { type: 'latency', attributes: { rate: 5 } },
      'a latency toxic has no attribute "rate" (it takes latency, jitter)',
    ],
    [
      { type: 'limit_data', attributes: { bytes: 1.5 } },
      'limit_data attribute "bytes" must be an integer of bytes >= 0 (got 1.5)',
    ],
    [
      { type: 'bandwidth', attributes: { rate: Number.NaN } },
      'bandwidth attribute "rate" must be a number of KB/s >= 0',
    ],
    [
      { type: 'slicer', attributes: { average_size: 10, size_variation: 10 } },
      'slicer attribute "size_variation" must be smaller than average_size (10) (got 10)',
    ],
  ])('refuses %j with a TypeError naming what is wrong', (spec, message) => {
    expect(() => toxicFromSpec(spec)).toThrow(TypeError);
    expect(() => toxicFromSpec(spec)).toThrow(message);
  });
});

describe('updatedToxic', () => {
  const toxic = toxicFromSpec({ type: 'latency', attributes: { latency: 100 } });

  it('merges attributes and toxicity over the current ones, leaving the original alone', () => {
    expect(updatedToxic(toxic, { attributes: { jitter: 20 }, toxicity: 0.5 })).toEqual({
      ...toxic,
      toxicity: 0.5,
      attributes: { latency: 100, jitter: 20 },
    });
    expect(toxic.attributes).toEqual({ latency: 100, jitter: 0 });
  });

  it('accepts the name, type and stream repeated, and refuses changing them', () => {
    expect(
      updatedToxic(toxic, { name: toxic.name, type: 'latency', stream: 'downstream' }),
    ).toEqual(toxic);
    expect(() => updatedToxic(toxic, { stream: 'upstream' })).toThrow(
      'toxic "stream" must be "downstream": it cannot change (got "upstream")',
    );
    expect(() => updatedToxic(toxic, { attributes: { latency: 'slow' } })).toThrow(TypeError);
  });
});
