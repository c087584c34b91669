// The Messenger's in-process memory of sends: a bounded LRU of fully delivered sends (an immediate
// re-send is answered without any read) and the sends in flight (a concurrent send of the same
// message waits for the first instead of polling the journal).
import type { SendResult } from './messenger-types.js';

interface CachedSend<T> {
  readonly result: SendResult<T>;
  readonly recipients: ReadonlySet<string>;
}

/** Recent and in-flight sends of one Messenger, keyed by conversation and message id. */
export class RecentSends<T> {
  readonly #limit: number;
  readonly #recent = new Map<string, CachedSend<T>>();
  readonly #inFlight = new Map<string, Promise<SendResult<T>>>();

  /** @param limit Most fully delivered sends remembered; 0 remembers none. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * The answer to a send of `messageId` in `conversationId` to exactly `targets`: a remembered
   * result (as a duplicate), else the result of `attempt`, run once at a time per message in this
   * process. Only a send that reached every inbox is remembered.
   */
  async run(conversationId: string, messageId: string, targets: readonly string[], attempt: () => Promise<SendResult<T>>): Promise<SendResult<T>> {
    // JSON of the pair: injective, unlike a joined string.
    const key = JSON.stringify([conversationId, messageId]);
    let cached = this.#cached(key, targets);
    if (cached !== undefined) return cached;
    // A concurrent send of the same message in this process: let it finish first. Not needed for
    // correctness with the journal (its claim decides), but it saves the loser's polling.
    for (let pending = this.#inFlight.get(key); pending !== undefined; pending = this.#inFlight.get(key)) {
      await pending.catch(() => undefined);
      cached = this.#cached(key, targets);
      if (cached !== undefined) return cached;
    }
    const running = attempt();
    this.#inFlight.set(key, running);
    try {
      const result = await running;
      if (this.#limit > 0 && result.fanOut.failed.length === 0) {
        this.#recent.delete(key);
        this.#recent.set(key, { result, recipients: new Set(targets) });
        if (this.#recent.size > this.#limit) this.#recent.delete(this.#recent.keys().next().value!);
      }
      return result;
    } finally {
      if (this.#inFlight.get(key) === running) this.#inFlight.delete(key);
    }
  }

  // A recent, fully delivered send of this message to exactly these inboxes.
  #cached(key: string, targets: readonly string[]): SendResult<T> | undefined {
    const cached = this.#recent.get(key);
    if (cached === undefined || cached.recipients.size !== targets.length || !targets.every((id) => cached.recipients.has(id))) return undefined;
    // Refresh its place in the LRU order.
    this.#recent.delete(key);
    this.#recent.set(key, cached);
    const { result } = cached;
    // Copies, so that a caller changing its result cannot change the cache.
    return { ...result, fanOut: { ...result.fanOut, delivered: [...result.fanOut.delivered], failed: [...result.fanOut.failed] }, duplicate: true };
  }
}
