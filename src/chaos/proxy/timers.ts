/**
 * The timers of one toxic on one connection. `clear()` cancels them all and ends every pending
 * sleep at once, so data a removed toxic was holding moves on without waiting out its delay.
 */
export class Timers {
  /** Pending timers, each with what to run if they are cleared first. */
  private readonly pending = new Map<NodeJS.Timeout, () => void>();
  private cleared = false;

  /** Waits `ms`, or less if cleared first. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.cleared) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, ms);
      this.pending.set(timer, resolve);
    });
  }

  /** Runs `action` after `ms` unless cleared first. */
  after(ms: number, action: () => void): void {
    if (this.cleared) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      action();
    }, ms);
    this.pending.set(timer, () => {});
  }

  clear(): void {
    this.cleared = true;
    for (const [timer, wake] of this.pending) {
      clearTimeout(timer);
      wake();
    }
    this.pending.clear();
  }
}
