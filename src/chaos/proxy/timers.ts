import { performance } from 'node:perf_hooks';

/**
 * The timers of one toxic on one connection. `clear()` cancels them all and ends every pending
 * sleep at once, so data a removed toxic was holding moves on without waiting out its delay.
 *
 * Node's timers count from the event loop's cached time, which can lag the real time by as
 * long as the current turn has run, so a timer may fire a little early. These check the real
 * time when they fire and wait out the rest: a 150 ms latency is never 149.
 */
export class Timers {
  /** Pending timers, each with what to run if they are cleared first. */
  private readonly pending = new Map<NodeJS.Timeout, () => void>();
  private cleared = false;

  /** Waits `ms`, or less if cleared first. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.cleared) return Promise.resolve();
    return new Promise((resolve) => this.at(performance.now() + ms, resolve, resolve));
  }

  /** Runs `action` after `ms` unless cleared first. */
  after(ms: number, action: () => void): void {
    if (!this.cleared) this.at(performance.now() + ms, action, () => {});
  }

  clear(): void {
    this.cleared = true;
    for (const [timer, onClear] of this.pending) {
      clearTimeout(timer);
      onClear();
    }
    this.pending.clear();
  }

  private at(due: number, action: () => void, onClear: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      const left = due - performance.now();
      if (left > 0) this.at(due, action, onClear);
      else action();
    }, due - performance.now());
    this.pending.set(timer, onClear);
  }
}
