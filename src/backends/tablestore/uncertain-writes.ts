/**
 * The memory of writes that ended in a `WriteUncertainError`: for each (table, timeline, message
 * id), the write ids it was sent under, so that a re-send of the same message first looks for
 * them at the timeline's tail instead of writing a duplicate.
 *
 * @packageDocumentation
 */
import { BoundedMap } from '../../core/bounded-map.js';
import { compositeKey } from '../../core/composite-key.js';

/** Message ids remembered after a WriteUncertainError, so that a re-send checks before writing. */
const MAX_UNCERTAIN_KEYS = 10_000;

/** What is remembered of one uncertain message. */
export interface UncertainWrite {
  /** Write ids of every send that may have stored it. */
  readonly writeIds: string[];
  /** Local time of its first send that may have applied it. */
  readonly sentAt: number;
}

/** The uncertain messages, in the library's one size-capped map (least recently used forgotten first). */
export class UncertainWrites {
  readonly #entries = new BoundedMap<string, UncertainWrite>({ maxSize: MAX_UNCERTAIN_KEYS });

  /** How many messages are remembered. */
  get size(): number {
    return this.#entries.size;
  }

  get(table: string, timelineId: string, messageId: string): UncertainWrite | undefined {
    return this.#entries.size === 0 ? undefined : this.#entries.get(key(table, timelineId, messageId));
  }

  /** Remembers a message as uncertain (as the newest entry). */
  remember(table: string, timelineId: string, messageId: string, write: UncertainWrite): void {
    this.#entries.set(key(table, timelineId, messageId), write);
  }

  /** Forgets a message once its outcome is known. */
  forget(table: string, timelineId: string, messageId: string): void {
    if (this.#entries.size > 0) this.#entries.delete(key(table, timelineId, messageId));
  }

  clear(): void {
    this.#entries.clear();
  }
}

// Length-prefixed, hence injective: no separator can be forged by an id.
const key = (table: string, timelineId: string, messageId: string): string => compositeKey(table, timelineId, messageId);
