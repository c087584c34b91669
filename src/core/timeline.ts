import type { AppendRow, AppendRowResult } from './backend.js';
import { batchBounds } from './batches.js';
import type { ResolvedCapabilities } from './capabilities.js';
import { describeValue } from './describe.js';
import { AbortedError, PartialWriteError, TimelineError, ValidationError, type RowOutcome } from './errors.js';
import type { StoreContext } from './store-context.js';
import { deleteEntry, updateEntry, type MutationOptions } from './timeline-mutations.js';
import { utf8Length } from './utf8.js';
import type { AppendOptions, ScanOptions, Seq, TimelineEntry } from './types.js';
import {
  checkMessageId,
  checkOptionalPositiveInteger,
  checkOptionalSeq,
  checkOptionsObject,
  checkSeq,
  checkSignal,
  throwIfAborted,
} from './validate.js';

/** Options of {@link Timeline.appendMany}. */
export interface AppendManyOptions {
  /** One optional message id per message, same length as the messages. */
  messageIds?: readonly (string | undefined)[];
  /** Stops sending further requests. */
  signal?: AbortSignal;
}

/**
 * One append-only queue of entries, identified by a timeline id within a {@link TimelineStore}.
 * Obtain it with `store.timeline(id)`; the object is cheap and holds no state of its own.
 */
export class Timeline<T> {
  /** The timeline id. */
  readonly id: string;
  readonly #store: StoreContext<T>;

  // Private: timelines come from `TimelineStore.timeline(id)`, which validates the id.
  private constructor(store: StoreContext<T>, id: string) {
    this.#store = store;
    this.id = id;
  }

  /** Creates a timeline of a store. Use `TimelineStore.timeline(id)`. @internal */
  static of<T>(store: StoreContext<T>, id: string): Timeline<T> {
    return new Timeline(store, id);
  }

  /**
   * Append one message at the tail. The backend assigns its seq, larger than every seq already in
   * this timeline.
   *
   * @throws {ValidationError} for a message the codec cannot encode, one over the backend's size
   *   limit, or an invalid `messageId`; nothing is written.
   * @throws {BackendError} when the backend fails; `retryable` says whether to try again.
   * @throws {WriteUncertainError} when the write may or may not have been applied.
   */
  async append(message: T, options?: AppendOptions): Promise<TimelineEntry<T>> {
    const opts = checkOptionsObject(options) as AppendOptions;
    const messageId = checkMessageId(opts.messageId, 'options.messageId');
    const signal = checkSignal(opts.signal);
    const payload = this.#store.encode(message, 'message', this.id, undefined);
    await this.#store.ready('append');
    throwIfAborted(signal, 'append');
    const row: AppendRow = messageId === undefined ? { timelineId: this.id, payload } : { timelineId: this.id, payload, messageId };
    let result: AppendRowResult | undefined;
    try {
      [result] = await this.#store.backend.append(this.#store.table, [row], { signal });
    } catch (error) {
      throw this.#store.wrapError(error, 'append', this.id);
    }
    if (result === undefined) throw new TimelineError('BACKEND', 'backend returned no result for append', { operation: 'append', timelineId: this.id });
    if (!result.ok) throw result.error;
    return messageId === undefined ? { timelineId: this.id, seq: result.seq, message } : { timelineId: this.id, seq: result.seq, message, messageId };
  }

  /**
   * Append several messages in input order: `result[i].seq < result[i + 1].seq`. Sent in as few
   * requests as the backend's limits allow, one after another so that order holds.
   *
   * Every message is validated and encoded first: if any is rejected, nothing is written. If the
   * backend fails part-way, later messages are not sent (so a retry cannot land before them) and a
   * {@link PartialWriteError} lists each message's outcome; if nothing was written the backend's
   * error is thrown as is.
   */
  async appendMany(messages: readonly T[], options?: AppendManyOptions): Promise<TimelineEntry<T>[]> {
    if (!Array.isArray(messages)) throw new ValidationError('messages', 'Expected `messages` to be an array');
    const opts = checkOptionsObject(options) as AppendManyOptions;
    const signal = checkSignal(opts.signal);
    const ids = opts.messageIds;
    if (ids !== undefined && (!Array.isArray(ids) || ids.length !== messages.length)) {
      throw new ValidationError('options.messageIds', `Expected \`options.messageIds\` to be an array of ${messages.length} ids (one per message)`);
    }
    const count = messages.length;
    const timelineId = this.id;
    const rows: AppendRow[] = new Array(count);
    for (let index = 0; index < count; index++) {
      // Parameter names are built only for an error: this loop runs once per message.
      const messageId = ids === undefined || ids[index] === undefined ? undefined : checkMessageId(ids[index], `options.messageIds[${index}]`);
      const payload = this.#store.encode(messages[index] as T, 'messages', timelineId, index);
      rows[index] = messageId === undefined ? { timelineId, payload } : { timelineId, payload, messageId };
    }
    if (count === 0) return [];
    await this.#store.ready('appendMany');
    const capabilities = this.#store.capabilities;
    // Without ordered batches, one row per request is the only way to keep input order.
    const bounds = capabilities.orderedBatches ? chunkBounds(rows, timelineId, capabilities) : oneRowPerChunk(count);
    // Entries of rows written so far; outcomes are built only if something fails.
    const entries: TimelineEntry<T>[] = new Array(count);
    let outcomes: RowOutcome<TimelineEntry<T>>[] | undefined;
    let failure: TimelineError | undefined;
    for (let c = 0; c + 1 < bounds.length; c++) {
      const start = bounds[c]!;
      const end = bounds[c + 1]!;
      if (failure === undefined) {
        try {
          throwIfAborted(signal, 'appendMany');
          const results = await this.#store.backend.append(this.#store.table, start === 0 && end === count ? rows : rows.slice(start, end), { signal });
          for (let rowIndex = start; rowIndex < end; rowIndex++) {
            const result = results[rowIndex - start];
            if (result?.ok) {
              const messageId = rows[rowIndex]!.messageId;
              const message = messages[rowIndex] as T;
              const entry: TimelineEntry<T> =
                messageId === undefined ? { timelineId, seq: result.seq, message } : { timelineId, seq: result.seq, message, messageId };
              if (outcomes === undefined) entries[rowIndex] = entry;
              else outcomes.push({ ok: true, entry });
            } else {
              const error = result?.error ?? new TimelineError('BACKEND', 'backend returned no result for a row', { operation: 'appendMany' });
              failure ??= error;
              outcomes ??= written(entries, rowIndex);
              outcomes.push({ ok: false, error });
            }
          }
          continue;
        } catch (error) {
          failure = this.#store.wrapError(error, 'appendMany', timelineId);
          outcomes ??= written(entries, start);
          for (let rowIndex = start; rowIndex < end; rowIndex++) outcomes.push({ ok: false, error: failure });
          continue;
        }
      }
      const notSent = new TimelineError('PARTIAL_WRITE', 'not sent because an earlier message of the same appendMany failed', {
        operation: 'appendMany',
        timelineId,
        cause: failure,
        retryable: failure.retryable,
      });
      for (let rowIndex = start; rowIndex < end; rowIndex++) outcomes!.push({ ok: false, error: notSent });
    }
    if (failure === undefined || outcomes === undefined) return entries;
    if (outcomes.every((o) => !o.ok)) throw failure;
    throw new PartialWriteError(
      `appendMany wrote ${outcomes.filter((o) => o.ok).length} of ${outcomes.length} messages to timeline ${JSON.stringify(timelineId)}: ${failure.message}`,
      outcomes,
      { operation: 'appendMany', timelineId, table: this.#store.table, cause: failure },
    );
  }

  /**
   * Read the entry with this seq, or undefined when there is none (never written, or expired).
   * @throws {ValidationError} when `seq` is not a bigint from 0n to 2^63-1.
   */
  async get(seq: Seq, options?: { signal?: AbortSignal }): Promise<TimelineEntry<T> | undefined> {
    checkSeq(seq, 'seq');
    const signal = checkSignal(checkOptionsObject(options).signal);
    await this.#store.ready('get');
    throwIfAborted(signal, 'get');
    let row;
    try {
      row = await this.#store.backend.get(this.#store.table, this.id, seq, { signal });
    } catch (error) {
      throw this.#store.wrapError(error, 'get', this.id);
    }
    return row === undefined ? undefined : this.#store.decode(row);
  }

  /**
   * Iterate over a range of entries, fetching pages lazily as the iteration advances.
   * `from` is inclusive and `to` exclusive in the scan direction (see {@link ScanOptions}).
   * Options are validated when `scan` is called, not when iteration starts.
   *
   * @example
   * ```ts
   * for await (const entry of timeline.scan({ direction: 'backward', limit: 20 })) render(entry);
   * ```
   * @throws {ValidationError} for invalid bounds, limit, page size or signal.
   */
  scan(options?: ScanOptions): AsyncIterable<TimelineEntry<T>> {
    const opts = checkOptionsObject(options) as ScanOptions;
    const from = checkOptionalSeq(opts.from, 'options.from');
    const to = checkOptionalSeq(opts.to, 'options.to');
    const direction = opts.direction ?? 'forward';
    if (direction !== 'forward' && direction !== 'backward') {
      throw new ValidationError('options.direction', `Expected \`options.direction\` to be 'forward' or 'backward', got ${describeValue(direction)}`);
    }
    const limit = checkOptionalPositiveInteger(opts.limit, 'options.limit');
    const pageSize = checkOptionalPositiveInteger(opts.pageSize, 'options.pageSize');
    const signal = checkSignal(opts.signal);
    return this.#iterate({ from, to, direction, limit, pageSize, signal });
  }

  /**
   * Replace the message of the existing entry at `seq`, in place: its seq and message id stay.
   * Never creates an entry. Idempotent. Needs the backend's `mutations` capability.
   *
   * The entry's expiry on a table with a TTL: the memory backend keeps the original one;
   * TableStore restarts it from the update (the row is rewritten). On TableStore this costs two
   * requests: a GetRow (for the message id the row keeps) and an UpdateRow with EXPECT_EXIST.
   *
   * @example
   * ```ts
   * await timeline.update(entry.seq, { text: 'fixed typo' });
   * ```
   * @throws {TimelineError} `NOT_FOUND` when there is no entry at `seq` (nothing is written);
   *   `NOT_SUPPORTED` when the backend has no `mutations` capability.
   * @throws {ValidationError} for an invalid `seq` or a message the codec or the backend's size
   *   limit rejects; nothing is written.
   */
  async update(seq: Seq, message: T, options?: MutationOptions): Promise<void> {
    return updateEntry(this.#store, this.id, seq, message, options);
  }

  /**
   * Delete the entry at `seq`. Idempotent: deleting an absent entry succeeds. Later appends never
   * reuse the seq. Needs the backend's `mutations` capability.
   *
   * @throws {TimelineError} `NOT_SUPPORTED` when the backend has no `mutations` capability.
   * @throws {ValidationError} for an invalid `seq`.
   */
  async delete(seq: Seq, options?: MutationOptions): Promise<void> {
    return deleteEntry(this.#store, this.id, seq, options);
  }

  /** The newest entry, or undefined when the timeline is empty. */
  async latest(options?: { signal?: AbortSignal }): Promise<TimelineEntry<T> | undefined> {
    const signal = checkSignal(checkOptionsObject(options).signal);
    for await (const entry of this.scan({ direction: 'backward', limit: 1, signal })) return entry;
    return undefined;
  }

  async *#iterate(o: {
    from: Seq | undefined;
    to: Seq | undefined;
    direction: 'forward' | 'backward';
    limit: number | undefined;
    pageSize: number | undefined;
    signal: AbortSignal | undefined;
  }): AsyncGenerator<TimelineEntry<T>> {
    const { direction, limit, signal } = o;
    // An empty range needs no request (and TableStore would reject start past end).
    if (o.from !== undefined && o.to !== undefined && (direction === 'forward' ? o.from >= o.to : o.from <= o.to)) return;
    await this.#store.ready('scan');
    const maxPage = this.#store.capabilities.maxScanPageRows;
    let remaining = limit ?? Number.POSITIVE_INFINITY;
    let from = o.from;
    while (remaining > 0) {
      if (signal?.aborted) throw new AbortedError({ operation: 'scan', timelineId: this.id, cause: signal.reason });
      const pageLimit = Math.min(o.pageSize ?? maxPage, maxPage, remaining);
      let page;
      try {
        page = await this.#store.backend.scan(this.#store.table, {
          timelineId: this.id,
          direction,
          limit: pageLimit,
          signal,
          ...(from === undefined ? {} : { from }),
          ...(o.to === undefined ? {} : { to: o.to }),
        });
      } catch (error) {
        throw this.#store.wrapError(error, 'scan', this.id);
      }
      for (const row of page.rows) {
        if (remaining <= 0) return;
        remaining -= 1;
        yield this.#store.decode(row);
      }
      if (page.next === undefined) return;
      from = page.next;
    }
  }
}

// The outcomes of the first `count` rows, all written, as entries.
function written<T>(entries: readonly TimelineEntry<T>[], count: number): RowOutcome<TimelineEntry<T>>[] {
  const outcomes: RowOutcome<TimelineEntry<T>>[] = [];
  for (let i = 0; i < count; i++) outcomes.push({ ok: true, entry: entries[i]! });
  return outcomes;
}

// The request boundaries of appendMany's rows (see batchBounds), measuring the timeline id once:
// every row belongs to the same timeline.
function chunkBounds(rows: readonly AppendRow[], timelineId: string, capabilities: ResolvedCapabilities): number[] {
  const fixed = capabilities.rowOverheadBytes + utf8Length(timelineId);
  return batchBounds(
    rows.length,
    (index) => {
      const row = rows[index]!;
      return fixed + row.payload.byteLength + (row.messageId === undefined ? 0 : utf8Length(row.messageId));
    },
    capabilities,
  );
}

function oneRowPerChunk(count: number): number[] {
  return Array.from({ length: count + 1 }, (_, i) => i);
}
