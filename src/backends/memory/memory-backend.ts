import { GuardedBackend } from '../../core/guarded-backend.js';
import { ValidationError } from '../../core/errors.js';
import { checkOptionsObject, checkOptionalPositiveInteger, checkSeq, MAX_TTL_SECONDS, MIN_TTL_SECONDS } from '../../core/validate.js';
import type { RecordBackend } from '../../core/records.js';
import { MemoryRecords } from './memory-records.js';
import { MemoryStorage } from './memory-storage.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /**
   * The seq given to the first entry of every timeline. Set it above 2^53 to test that callers
   * keep seqs exact.
   * @default 1n
   */
  firstSeq?: bigint;
  /**
   * The clock, in milliseconds since the epoch, used for TTL. Inject one in tests instead of
   * sleeping.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Most rows per append call; {@link TimelineStore} splits larger writes.
   * @default 1000
   */
  maxBatchRows?: number;
  /**
   * Most rows per scan page. Lower it in tests to exercise paging.
   * @default 5000
   */
  maxScanPageRows?: number;
  /**
   * Most bytes of one encoded message. The default matches TableStore's 2 MB attribute limit so
   * that code tested here behaves the same in production.
   * @default 2097152
   */
  maxMessageBytes?: number;
}

/**
 * The in-memory backend: the embedded default, for development, tests and demos. Data lives in
 * this process and is lost when it exits.
 *
 * - Seqs are strictly increasing per timeline: `firstSeq`, then +1 per entry. They never go back,
 *   even after every entry of a timeline has expired: a timeline whose entries have all expired is
 *   dropped by the sweep, and a timeline created after that starts above every seq a dropped
 *   timeline of the table used (so it may start above `firstSeq`).
 * - TTL is exact at read time against the injected clock; expired entries are invisible to `get`
 *   and `scan` and their memory is reclaimed (on access, and by a sweep of the whole table at most
 *   every tenth of the TTL), so a TTL table's memory does not grow without bound.
 * - A scan page costs O(page): seqs are consecutive, so where a page starts is arithmetic.
 * - Payloads are copied on the way in and on the way out: neither the writer nor a reader can alter
 *   a stored entry through its bytes.
 * - It declares TableStore's limits (TTL from 86400 s to 2^31-1, identifier table names, 2 MB
 *   messages), so that code tested here behaves the same in production.
 *
 * @example
 * ```ts
 * let now = Date.now();
 * const backend = new MemoryBackend({ now: () => now, firstSeq: 2n ** 60n });
 * const store = new TimelineStore({ backend, table: 'im_sync', ttlSeconds: 86400 });
 * await store.timeline('bob').append({ text: 'hi' });
 * now += 86_400_000; // the entry has now expired
 * ```
 */
export class MemoryBackend extends GuardedBackend {
  readonly #storage: MemoryStorage;

  constructor(options?: MemoryBackendOptions) {
    const opts = checkOptionsObject(options) as MemoryBackendOptions;
    const firstSeq = opts.firstSeq === undefined ? 1n : checkSeq(opts.firstSeq, 'options.firstSeq');
    if (opts.now !== undefined && typeof opts.now !== 'function') {
      throw new ValidationError('options.now', 'Expected `options.now` to be a function returning milliseconds');
    }
    const now = opts.now ?? Date.now;
    const storage = new MemoryStorage({
      firstSeq,
      now,
      // Closed and abort checks are the guard's (GuardedBackend), as for the timeline calls.
      records: new MemoryRecords({ now: () => now(), checkOpen: () => undefined }),
      capabilities: Object.freeze({
        name: 'memory',
        maxBatchRows: checkOptionalPositiveInteger(opts.maxBatchRows, 'options.maxBatchRows') ?? 1000,
        maxBatchBytes: 64 * 1024 * 1024,
        maxMessageBytes: checkOptionalPositiveInteger(opts.maxMessageBytes, 'options.maxMessageBytes') ?? 2 * 1024 * 1024,
        maxScanPageRows: checkOptionalPositiveInteger(opts.maxScanPageRows, 'options.maxScanPageRows') ?? 5000,
        ttlGranularitySeconds: 0,
        orderedBatches: true,
        rowOverheadBytes: 0,
        minTtlSeconds: MIN_TTL_SECONDS,
        maxTtlSeconds: MAX_TTL_SECONDS,
      }),
    });
    super(storage);
    this.#storage = storage;
  }

  /** Keyed records with conditional writes (the send journal and other state beside timelines). */
  override get records(): RecordBackend {
    return super.records!;
  }

  /** Number of live (unexpired, not yet reclaimed) entries in a table; for tests and monitoring. */
  size(table: string): number {
    return this.#storage.size(table);
  }

  /** Number of entries held in memory for a table, including expired ones not yet reclaimed. */
  retained(table: string): number {
    return this.#storage.retained(table);
  }

  /** Number of timelines held in memory for a table, including those whose entries all expired but were not yet swept. */
  timelineCount(table: string): number {
    return this.#storage.timelineCount(table);
  }
}
