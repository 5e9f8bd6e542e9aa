import { ResilienceError } from '../core/errors.js';

/**
 * The abort reason of an attempt that lost a hedge race: another attempt's outcome ended the
 * call, so this one's `ctx.signal` aborts with this. Nobody awaits a loser's outcome; the
 * reason is there so the attempt's own code and logs can tell "lost the race" from a caller's
 * abort or a timeout.
 */
export class HedgeLostError extends ResilienceError {
  /** The attempt whose outcome ended the call. */
  readonly winner: number;

  constructor(winner: number) {
    super(`Attempt ${winner} won the hedge race; this attempt is no longer needed`);
    this.winner = winner;
  }
}

Object.defineProperties(HedgeLostError.prototype, {
  name: { value: 'HedgeLostError', writable: true, configurable: true },
  code: { value: 'HEDGE_LOST', writable: false, configurable: true },
});
