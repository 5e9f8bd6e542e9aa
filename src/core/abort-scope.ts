/** Something told when a scope aborts: a callback, or a child scope that aborts in turn. */
export type AbortListener = ((reason: unknown) => void) | AbortScope;

/**
 * The cancellation state of one execution, arranged as a tree: the root follows the caller's
 * signal, and a timeout opens a child that aborts on its own deadline or when its parent does.
 *
 * Everything is lazy, because most calls never look at their signal: an `AbortController` is
 * made only when someone reads `signal`, and a scope links itself to its parent (or to the
 * caller's signal) only when it first has something to tell. `dispose()` removes that link,
 * so a finished execution leaves no listener on a long-lived caller signal.
 */
export class AbortScope {
  /**
   * The root of every call made without a caller signal: it never aborts and keeps no
   * listeners, so such calls allocate no scope. Its `signal` must not be handed out (a signal
   * shared by every call would collect user listeners forever); `Context` gives each call its
   * own instead.
   */
  static readonly none: AbortScope = new AbortScope();

  readonly #parent: AbortScope | undefined;
  readonly #external: AbortSignal | undefined;
  #aborted = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  #listeners: AbortListener[] | undefined;
  #linked = false;
  /** Set by `dispose()`: the execution is over, so the scope never links to anything again. */
  #disposed = false;

  /** A root follows `external` (the caller's signal); a child follows `parent`. */
  constructor(parent?: AbortScope, external?: AbortSignal) {
    this.#parent = parent;
    this.#external = external;
  }

  get aborted(): boolean {
    if (this.#aborted) return true;
    if (this.#parent !== undefined) return this.#parent.aborted;
    return this.#external?.aborted === true;
  }

  /** Why the scope aborted; undefined while it has not. */
  get reason(): unknown {
    if (this.#aborted) return this.#reason;
    if (this.#parent !== undefined) return this.#parent.reason;
    return this.#external?.aborted ? this.#external.reason : undefined;
  }

  /** The signal handed to user code. A root with a caller signal hands that signal itself. */
  get signal(): AbortSignal {
    if (this.#parent === undefined && this.#external !== undefined) return this.#external;
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
      else this.#link();
    }
    return this.#controller.signal;
  }

  /**
   * Tells `listener` once when the scope aborts; if it already has, tells it now. Remove it
   * with `unwatch` when the wait it guards is over.
   */
  watch(listener: AbortListener): void {
    if (this === AbortScope.none) return;
    if (this.aborted) {
      notify(listener, this.reason);
      return;
    }
    if (this.#disposed) return;
    this.#link();
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  unwatch(listener: AbortListener): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at !== -1) listeners.splice(at, 1);
  }

  /** Aborts this scope and every child with `reason`. A second call does nothing. */
  abort(reason: unknown): void {
    if (this.#aborted || this === AbortScope.none) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#unlink();
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) notify(listener, reason);
  }

  /**
   * Ends the scope's life: unlinks it from its parent and drops its listeners. A signal read
   * afterwards (by code that kept the context) shows the state at that moment and never
   * aborts; it leaves no listener on the caller's signal.
   */
  dispose(): void {
    this.#disposed = true;
    this.#unlink();
    this.#listeners = undefined;
  }

  /** Called by the caller's signal, which a root listens to as an event-listener object. */
  handleEvent(): void {
    this.abort(this.#external?.reason);
  }

  #link(): void {
    if (this.#linked || this.#disposed) return;
    this.#linked = true;
    if (this.#parent !== undefined) this.#parent.watch(this);
    else this.#external?.addEventListener('abort', this, { once: true });
  }

  #unlink(): void {
    if (!this.#linked) return;
    this.#linked = false;
    if (this.#parent !== undefined) this.#parent.unwatch(this);
    else this.#external?.removeEventListener('abort', this);
  }
}

function notify(listener: AbortListener, reason: unknown): void {
  if (typeof listener === 'function') listener(reason);
  else listener.abort(reason);
}
