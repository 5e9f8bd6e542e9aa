/** The functions every case runs, shared so that each library runs exactly the same work. */

export const VALUE = 42;

/** A call that completes at once and ignores its context: the cheapest possible dependency. */
export const work = async () => VALUE;

const done = Promise.resolve(VALUE);
function onAbort() {}

/**
 * Stands in for an I/O client that honours a signal, as fetch or a database driver does:
 * it checks the signal, listens for abort while the operation runs, and stops listening
 * when the operation ends.
 */
async function io(signal) {
  signal.throwIfAborted();
  signal.addEventListener('abort', onAbort);
  try {
    return await done;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** A call that reads `ctx.signal` and passes it on to its I/O, as a real service call does. */
export const readsSignal = (ctx) => io(ctx.signal);

/** A signal nobody aborts: what the bare baseline of `readsSignal` is handed. */
export const idleSignal = new AbortController().signal;

/** One reused error, so that failing calls cost the same in every library. */
export const failure = new Error('dependency failed');
export const fails = async () => {
  throw failure;
};

/** What a refusal costs at the least: a call that throws a new Error. */
export const refuses = async () => {
  throw new Error('refused');
};

/** Turns a rejection into a fulfilled value, so a benchmark loop can await it. */
export const caught = (error) => error;
