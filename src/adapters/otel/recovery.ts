import type { CircuitState } from '../../circuit-breaker/options.js';

/** Open episodes remembered at most, over all breakers: older ones are forgotten first. */
const maxEpisodes = 10_000;

/**
 * Times breakers from leaving 'closed' (opened, or isolated by hand) to 'closed' again, from
 * their stateChange events. An episode is one breaker's: the events of the breakers a keyed
 * policy makes share a name and tell each other apart by the key of the call that caused the
 * change. A single breaker sees many keys, though (a probe's key is rarely the key of the call
 * that opened it), so a close whose key opened nothing ends the name's only open episode.
 * Keys are held only while their breaker is open, and never leave this class.
 */
export class RecoveryTracker {
  /** When each open episode began, by breaker name, then by the key that began it. */
  readonly #openSince = new Map<string, Map<string | undefined, number>>();
  #episodes = 0;

  /** The seconds the breaker took to recover when this change closed it; else undefined. */
  change(
    policy: string,
    key: string | undefined,
    from: CircuitState,
    to: CircuitState,
    now: number,
  ): number | undefined {
    if (from === 'closed') {
      this.#begin(policy, key, now);
      return undefined;
    }
    if (to !== 'closed') return undefined;
    const episodes = this.#openSince.get(policy);
    if (episodes === undefined) return undefined;
    let since = episodes.get(key);
    if (since !== undefined) episodes.delete(key);
    else if (episodes.size === 1) {
      const [only, at] = episodes.entries().next().value as [string | undefined, number];
      episodes.delete(only);
      since = at;
    } else return undefined;
    this.#episodes--;
    if (episodes.size === 0) this.#openSince.delete(policy);
    return (now - since) / 1000;
  }

  #begin(policy: string, key: string | undefined, now: number): void {
    let episodes = this.#openSince.get(policy);
    if (episodes === undefined) {
      episodes = new Map();
      this.#openSince.set(policy, episodes);
    }
    if (episodes.has(key)) return;
    if (this.#episodes >= maxEpisodes) this.#forgetOldest();
    episodes.set(key, now);
    this.#episodes++;
  }

  /** Drops the first episode of the name seen longest ago: cheap, and bounds memory. */
  #forgetOldest(): void {
    const [policy, episodes] = this.#openSince.entries().next().value as [
      string,
      Map<string | undefined, number>,
    ];
    episodes.delete(episodes.keys().next().value);
    this.#episodes--;
    if (episodes.size === 0) this.#openSince.delete(policy);
  }
}
