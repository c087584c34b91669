import pLimit from 'p-limit';
import createDebug from 'debug';
import type { AppendRow, AppendRowResult, StoredRow, TableDescription, TimelineBackend, TtlMismatchPolicy } from './backend.js';
import { splitIntoChunks } from './batches.js';
import { checkCapabilities, type ResolvedCapabilities } from './capabilities.js';
import { jsonCodec } from './codec.js';
import { describeError, describeValue } from './describe.js';
import { AbortedError, ClosedError, TimelineError, ValidationError, type RowOutcome } from './errors.js';
import { GuardedBackend } from './guarded-backend.js';
import type { StoreContext } from './store-context.js';
import type { Codec, TimelineEntry } from './types.js';
import { Timeline } from './timeline.js';
import { isWellFormed } from './utf8.js';
import {
  checkMessageId,
  checkOptionalPositiveInteger,
  checkOptionsObject,
  checkSignal,
  checkTableName,
  checkTimelineId,
  checkTtlSeconds,
  MAX_MESSAGE_ID_BYTES,
  MAX_TIMELINE_ID_BYTES,
  throwIfAborted,
} from './validate.js';

const log = createDebug('tablestore-timeline:store');
// Matches no message, so that the first item of a batch is always encoded.
const NOT_ENCODED = Symbol('not encoded');

/** Options of {@link TimelineStore}. */
export interface TimelineStoreOptions<T> {
  /** Where entries live: a `MemoryBackend`, a `TableStoreBackend`, or any `TimelineBackend`. */
  backend: TimelineBackend;
  /** Table name: letters, digits and underscores, not starting with a digit. */
  table: string;
  /**
   * Entries older than this many seconds expire. -1 or omitted keeps them forever; otherwise
   * within the backend's declared `minTtlSeconds` and `maxTtlSeconds` (TableStore and the memory
   * backend: at least 86400).
   * @default -1
   */
  ttlSeconds?: number;
  /**
   * How messages become bytes.
   * @default jsonCodec() — JSON that round-trips bigint and rejects what JSON would alter
   */
  codec?: Codec<T>;
  /**
   * What `init()` (explicit or lazy) does when the table exists with another TTL: `'error'`
   * rejects with a `TableIncompatibleError` that states both TTLs and leaves the table alone;
   * `'update'` changes the table's TTL to this store's. A shorter TTL makes the service delete
   * older entries, so the change happens only when asked for.
   * @default 'error'
   */
  onTtlMismatch?: TtlMismatchPolicy;
  /**
   * Backend requests in flight at once for {@link TimelineStore.appendBatch}.
   * @default 8
   */
  writeConcurrency?: number;
}

/** One item of {@link TimelineStore.appendBatch}. */
export interface BatchItem<T> {
  /** The timeline to append to. */
  timelineId: string;
  /** The message. */
  message: T;
  /** Its idempotency key, if any. */
  messageId?: string;
}

/** Options of {@link TimelineStore.appendBatch}. */
export interface AppendBatchOptions {
  /** Backend requests in flight at once. Default: the store's `writeConcurrency`. */
  concurrency?: number;
  /** Stops sending further requests; rows not yet sent fail with an `AbortedError`. */
  signal?: AbortSignal;
}

/**
 * A table of timelines on one backend: the one place that validates input, encodes messages and
 * splits writes by the backend's declared limits.
 *
 * The store initialises its table once, on `init()` or lazily on first use; a failed
 * initialisation is retried on the next call. After `close()` every call rejects with a
 * `ClosedError`. Closing a store does not close its backend, which may serve other stores.
 *
 * @example
 * ```ts
 * import { TimelineStore, MemoryBackend } from 'tablestore-timeline';
 *
 * const store = new TimelineStore<{ text: string }>({ backend: new MemoryBackend(), table: 'im_sync', ttlSeconds: 7 * 86400 });
 * await store.init();
 * const bob = store.timeline('user:bob');
 * const entry = await bob.append({ text: 'hello' }, { messageId: 'm-1' });
 * for await (const e of bob.scan({ from: entry.seq })) console.log(e.seq, e.message.text);
 * ```
 */
export class TimelineStore<T = unknown> {
  /** The table name. */
  readonly table: string;
  /** TTL in seconds, -1 for forever. */
  readonly ttlSeconds: number;
  /** The backend this store writes to, as it was given. */
  readonly backend: TimelineBackend;
  readonly #backend: GuardedBackend;
  readonly #codec: Codec<T>;
  readonly #onTtlMismatch: TtlMismatchPolicy;
  readonly #writeConcurrency: number;
  #init: Promise<TableDescription> | undefined;
  #closed = false;
  readonly #context: StoreContext<T>;

  constructor(options: TimelineStoreOptions<T>) {
    const opts = checkOptionsObject(options, 'options') as Partial<TimelineStoreOptions<T>>;
    const backend = opts.backend;
    if (backend === null || typeof backend !== 'object' || METHODS.some((name) => typeof backend[name] !== 'function')) {
      throw new ValidationError(
        'options.backend',
        `Expected \`options.backend\` to be a TimelineBackend with ${METHODS.join(', ')} methods (e.g. \`new MemoryBackend()\`), got ${describeValue(backend)}`,
      );
    }
    const declared: unknown = backend.capabilities;
    if (declared !== undefined && (declared === null || typeof declared !== 'object')) {
      throw new ValidationError('options.backend', `Expected \`options.backend.capabilities\` to be an object or undefined, got ${describeValue(declared)}`);
    }
    this.backend = backend;
    this.#backend = GuardedBackend.wrap(backend);
    const limits = this.#backend.capabilities;
    checkCapabilities(limits, 'options.backend.capabilities');
    this.table = checkTableName(opts.table, 'options.table', limits.tableNamePattern, limits.name);
    this.ttlSeconds = checkTtlSeconds(opts.ttlSeconds, 'options.ttlSeconds', { min: limits.minTtlSeconds, max: limits.maxTtlSeconds, backend: limits.name });
    const codec = opts.codec === undefined ? jsonCodec<T>() : opts.codec;
    if (codec === null || typeof codec !== 'object' || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
      throw new ValidationError('options.codec', 'Expected `options.codec` to have `encode` and `decode` functions');
    }
    this.#codec = codec;
    const policy: unknown = opts.onTtlMismatch === undefined ? 'error' : opts.onTtlMismatch;
    if (policy !== 'update' && policy !== 'error') {
      throw new ValidationError('options.onTtlMismatch', `Expected \`options.onTtlMismatch\` to be 'update' or 'error', got ${describeValue(policy)}`);
    }
    this.#onTtlMismatch = policy;
    this.#writeConcurrency = checkOptionalPositiveInteger(opts.writeConcurrency, 'options.writeConcurrency') ?? 8;
    const store = this;
    const guarded = this.#backend;
    this.#context = {
      table: this.table,
      backend: guarded,
      get capabilities() {
        return guarded.capabilities;
      },
      ready: (operation) => store.#ready(operation),
      encode: (message, parameter, timelineId, index) => store.#encode(message, parameter, timelineId, index),
      decode: (row) => store.#decode(row),
      wrapError: (error, operation, timelineId) => store.#wrapError(error, operation, timelineId),
    };
  }

  /** The backend's capabilities, with defaults filled in for what it does not declare. */
  get capabilities(): ResolvedCapabilities {
    return this.#backend.capabilities;
  }

  /**
   * Create the table if it is missing, verify its layout and reconcile its TTL. Called lazily by
   * the first operation; call it at start-up to surface configuration errors early. Concurrent
   * calls share one attempt; a failed attempt is retried on the next call.
   *
   * @throws {TableIncompatibleError} when an existing table has another layout, or another TTL and `onTtlMismatch` is `'error'`.
   */
  async init(): Promise<TableDescription> {
    if (this.#closed) throw new ClosedError(`TimelineStore(${this.table})`, { operation: 'init', table: this.table });
    if (!this.#init) {
      const attempt = this.#backend
        .ensureTable({ table: this.table, ttlSeconds: this.ttlSeconds }, { onTtlMismatch: this.#onTtlMismatch })
        .then((description) => {
          log('table %s ready (created=%s, ttlUpdated=%s)', this.table, description.created, description.ttlUpdated);
          return description;
        });
      this.#init = attempt;
      attempt.catch(() => {
        // Forget the failed attempt so that the next call retries instead of failing forever.
        if (this.#init === attempt) this.#init = undefined;
      });
    }
    try {
      return await this.#init;
    } catch (error) {
      throw this.#wrapError(error, 'init');
    }
  }

  /**
   * The timeline with this id. Cheap: no I/O happens until it is used.
   * @throws {ValidationError} when `timelineId` is empty or over 1 KB of UTF-8.
   */
  timeline(timelineId: string): Timeline<T> {
    checkTimelineId(timelineId, 'timelineId');
    return Timeline.of<T>(this.#context, timelineId);
  }

  /**
   * Append many messages, each to its own timeline, in as few backend requests as the backend's
   * limits allow, with bounded concurrency. This is the primitive under write fan-out.
   *
   * Never throws for a per-row failure: the result has one outcome per item, in input order.
   * Throws only for invalid input (before anything is written) or a closed store. Rows of the same
   * timeline within one call are not guaranteed to receive seqs in input order; use
   * `Timeline.appendMany` for that. Consecutive items that pass the same message object are
   * encoded once, so a codec must not rely on being called once per row.
   *
   * @throws {ValidationError} when an item is invalid; nothing is written.
   */
  async appendBatch(items: readonly BatchItem<T>[], options?: AppendBatchOptions): Promise<RowOutcome<TimelineEntry<T>>[]> {
    if (!Array.isArray(items)) throw new ValidationError('items', 'Expected `items` to be an array');
    const opts = checkOptionsObject(options) as AppendBatchOptions;
    const concurrency = checkOptionalPositiveInteger(opts.concurrency, 'options.concurrency') ?? this.#writeConcurrency;
    const signal = checkSignal(opts.signal);
    // A fan-out passes one message object for every receiver: encode it once, not once per row.
    let lastMessage: unknown = NOT_ENCODED;
    let lastPayload: Uint8Array | undefined;
    // Array.from visits holes of a sparse array (as undefined, rejected below); map would skip them.
    const rows = Array.from(items, (item, index): AppendRow => {
      // Parameter names are built only for an error: this runs once per item of a fan-out.
      if (item === null || typeof item !== 'object') throw new ValidationError(`items[${index}]`, `Expected \`items[${index}]\` to be an object`);
      const id: unknown = item.timelineId;
      const timelineId = isShortId(id) ? id : checkTimelineId(id, `items[${index}].timelineId`);
      const mid: unknown = item.messageId;
      const messageId = mid === undefined || isShortId(mid) ? mid : checkMessageId(mid, `items[${index}].messageId`);
      const payload = item.message === lastMessage && lastPayload !== undefined ? lastPayload : this.#encode(item.message, 'items', timelineId, index, '.message');
      lastMessage = item.message;
      lastPayload = payload;
      return messageId === undefined ? { timelineId, payload } : { timelineId, payload, messageId };
    });
    await this.#ready('appendBatch');
    const results = await this.#writeRows(rows, { concurrency, signal, operation: 'appendBatch' });
    return results.map((result, index) => {
      if (!result.ok) return result;
      const row = rows[index]!;
      return { ok: true, entry: this.#entry(row, result.seq, items[index]!.message) };
    });
  }

  /**
   * Encode `message` as an append would and check it against the backend's per-message limit,
   * writing nothing; throws the `ValidationError` an append would (`CODEC` or
   * `MESSAGE_TOO_LARGE`), naming `parameter`. For the IM layer, which must reject a message before
   * it writes anything else (e.g. the history entry ahead of the inbox entries).
   * @internal
   */
  validateMessage(message: T, parameter: string, timelineId = ''): void {
    this.#encode(message, parameter, timelineId, undefined);
  }

  /**
   * Release the store. Later calls reject with a `ClosedError`; calls already in flight finish.
   * Does not close the backend. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
  }

  /** True after {@link TimelineStore.close}. */
  get closed(): boolean {
    return this.#closed;
  }

  // Writes encoded rows in chunks that respect the backend's row and byte limits.
  async #writeRows(
    rows: readonly AppendRow[],
    options: { concurrency: number; signal?: AbortSignal | undefined; operation: string },
  ): Promise<AppendRowResult[]> {
    const results = new Array<AppendRowResult>(rows.length);
    const chunks = splitIntoChunks(rows, this.#backend.capabilities);
    if (chunks.length > 1) log('%s: %d rows split into %d requests', options.operation, rows.length, chunks.length);
    // A fan-out to a few inboxes is one chunk: no queue is needed when every chunk may run at once.
    const limit: (task: () => Promise<void>) => Promise<void> = chunks.length <= options.concurrency ? runNow : pLimit(options.concurrency);
    await Promise.all(
      chunks.map((chunk) =>
        limit(async () => {
          const chunkRows = chunk.map((i) => rows[i]!);
          let chunkResults: AppendRowResult[];
          try {
            throwIfAborted(options.signal, options.operation);
            if (this.#closed) throw new ClosedError(`TimelineStore(${this.table})`);
            chunkResults = await this.#backend.append(this.table, chunkRows, { signal: options.signal });
          } catch (error) {
            const wrapped = this.#wrapError(error, options.operation);
            chunkResults = chunkRows.map(() => ({ ok: false, error: wrapped }));
          }
          chunk.forEach((rowIndex, j) => {
            results[rowIndex] = chunkResults[j]!;
          });
        }),
      ),
    );
    return results;
  }

  async #ready(operation: string): Promise<void> {
    if (this.#closed) throw new ClosedError(`TimelineStore(${this.table})`, { operation, table: this.table });
    if (this.#init === undefined) await this.init();
    else await this.#init.catch(() => this.init());
  }

  // The parameter named in errors is `name`, or `${name}[${index}]${suffix}` with an index.
  #encode(message: T, name: string, timelineId: string, index: number | undefined, suffix = ''): Uint8Array {
    let payload: Uint8Array;
    try {
      payload = this.#codec.encode(message);
    } catch (error) {
      const parameter = index === undefined ? name : `${name}[${index}]${suffix}`;
      throw new ValidationError(parameter, `\`${parameter}\` cannot be encoded: ${describeError(error)}`, {
        code: 'CODEC',
        cause: error,
        timelineId,
        table: this.table,
      });
    }
    if (!(payload instanceof Uint8Array)) {
      const parameter = index === undefined ? name : `${name}[${index}]${suffix}`;
      throw new ValidationError(parameter, `the codec returned ${describeValue(payload)} for \`${parameter}\`; expected a Uint8Array`, { code: 'CODEC' });
    }
    const { maxMessageBytes: max, name: backendName } = this.#backend.capabilities;
    if (payload.byteLength > max) {
      const parameter = index === undefined ? name : `${name}[${index}]${suffix}`;
      throw new ValidationError(
        parameter,
        `\`${parameter}\` encodes to ${payload.byteLength} bytes, over the ${backendName} backend's limit of ${max} bytes per message`,
        { code: 'MESSAGE_TOO_LARGE', timelineId, table: this.table },
      );
    }
    return payload;
  }

  #decode(row: StoredRow): TimelineEntry<T> {
    let message: T;
    try {
      message = this.#codec.decode(row.payload);
    } catch (error) {
      throw new TimelineError('CODEC', `cannot decode entry ${row.seq} of timeline ${JSON.stringify(row.timelineId)}: ${describeError(error)}`, {
        cause: error,
        operation: 'decode',
        table: this.table,
        timelineId: row.timelineId,
      });
    }
    return this.#entry(row, row.seq, message);
  }

  #entry(row: { timelineId: string; messageId?: string | undefined }, seq: bigint, message: T): TimelineEntry<T> {
    return row.messageId === undefined
      ? { timelineId: row.timelineId, seq, message }
      : { timelineId: row.timelineId, seq, message, messageId: row.messageId };
  }

  #wrapError(error: unknown, operation: string, timelineId?: string): TimelineError {
    if (error instanceof TimelineError) return error;
    if (error instanceof Error && error.name === 'AbortError') return new AbortedError({ operation, cause: error, table: this.table, timelineId });
    return new TimelineError('BACKEND', `${operation} on table ${this.table} failed: ${describeError(error)}`, {
      cause: error,
      operation,
      table: this.table,
      timelineId,
    });
  }
}

// What `pLimit` does when its limit is never reached: runs the task at once.
const runNow = <R>(task: () => Promise<R>): Promise<R> => task();

// The methods every backend must have.
const METHODS = ['ensureTable', 'append', 'get', 'scan', 'close'] as const;

// A non-empty, well-formed string that fits the 1 KB id limits whatever its characters (at most 3
// UTF-8 bytes per UTF-16 code unit), so its exact UTF-8 length need not be measured. Anything else
// goes through the full check, which also produces the error.
function isShortId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length * 3 <= MAX_MESSAGE_ID_BYTES &&
    value.length * 3 <= MAX_TIMELINE_ID_BYTES &&
    isWellFormed(value)
  );
}
