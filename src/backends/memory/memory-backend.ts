import type {
  AppendRow,
  AppendRowResult,
  BackendAppendOptions,
  BackendCapabilities,
  EnsureTableOptions,
  ScanPage,
  ScanPageRequest,
  StoredRow,
  TableDescription,
  TableSpec,
  TimelineBackend,
} from '../../core/backend.js';
import { BackendError, ClosedError, TableIncompatibleError, ValidationError } from '../../core/errors.js';
import { MemoryRecords } from './memory-records.js';
import { checkOptionsObject, checkOptionalPositiveInteger, checkSeq, MAX_SEQ, throwIfAborted } from '../../core/validate.js';

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

// Entries of one timeline in parallel arrays (cheaper than an object per entry), ordered by seq.
// Indexes below `head` are expired and wait for compaction.
//
// Seqs are not stored: this backend gives each new entry the previous seq + 1 and only ever
// removes a prefix, so entry i has seq `firstSeq + i`. Payloads are stored as one-byte strings
// holding the payload bytes (one char per byte): converting to a string is the copy that isolates
// the entry from the caller's buffer, and a string costs a 16-byte header where a Uint8Array
// costs an object, an ArrayBuffer and a separately allocated backing store.
interface TimelineData {
  firstSeq: bigint;
  payloads: string[];
  // Allocated on the first entry with a message id, then kept parallel to `payloads`.
  messageIds: (string | undefined)[] | undefined;
  writtenAt: number[];
  head: number;
  // Kept even when every entry has expired, so that seqs never go back (a device's cursor may
  // still point past them).
  lastSeq: bigint;
}

interface TableData {
  ttlSeconds: number;
  timelines: Map<string, TimelineData>;
  lastSweep: number;
}

/**
 * The in-memory backend: the embedded default, for development, tests and demos. Data lives in
 * this process and is lost when it exits.
 *
 * - Seqs are strictly increasing per timeline: `firstSeq`, then +1 per entry. They never go back,
 *   even after every entry of a timeline has expired.
 * - TTL is exact at read time against the injected clock; expired entries are invisible to `get`
 *   and `scan` and their memory is reclaimed (on access, and by a sweep of the whole table at most
 *   every tenth of the TTL), so a TTL table's memory does not grow without bound.
 * - A scan page costs O(page): seqs are consecutive, so where a page starts is arithmetic.
 * - Payloads are copied on the way in and on the way out: neither the writer nor a reader can alter
 *   a stored entry through its bytes.
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
export class MemoryBackend implements TimelineBackend {
  /** @inheritDoc */
  readonly capabilities: BackendCapabilities;
  /** Keyed records with conditional writes (the send journal and other state beside timelines). */
  readonly records: MemoryRecords;
  readonly #tables = new Map<string, TableData>();
  readonly #firstSeq: bigint;
  readonly #now: () => number;
  #closed = false;

  constructor(options?: MemoryBackendOptions) {
    const opts = checkOptionsObject(options) as MemoryBackendOptions;
    this.#firstSeq = opts.firstSeq === undefined ? 1n : checkSeq(opts.firstSeq, 'options.firstSeq');
    if (opts.now !== undefined && typeof opts.now !== 'function') {
      throw new ValidationError('options.now', 'Expected `options.now` to be a function returning milliseconds');
    }
    this.#now = opts.now ?? Date.now;
    this.records = new MemoryRecords({ now: () => this.#now(), checkOpen: (operation) => this.#checkOpen(operation) });
    this.capabilities = Object.freeze({
      name: 'memory',
      maxBatchRows: checkOptionalPositiveInteger(opts.maxBatchRows, 'options.maxBatchRows') ?? 1000,
      maxBatchBytes: 64 * 1024 * 1024,
      maxMessageBytes: checkOptionalPositiveInteger(opts.maxMessageBytes, 'options.maxMessageBytes') ?? 2 * 1024 * 1024,
      maxScanPageRows: checkOptionalPositiveInteger(opts.maxScanPageRows, 'options.maxScanPageRows') ?? 5000,
      ttlGranularitySeconds: 0,
      orderedBatches: true,
      rowOverheadBytes: 0,
    });
  }

  /** @inheritDoc */
  async ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    this.#checkOpen('ensureTable');
    throwIfAborted(options?.signal, 'ensureTable');
    const existing = this.#tables.get(spec.table);
    if (existing === undefined) {
      this.#tables.set(spec.table, { ttlSeconds: spec.ttlSeconds, timelines: new Map(), lastSweep: this.#now() });
      return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: true, ttlUpdated: false };
    }
    if (existing.ttlSeconds === spec.ttlSeconds) {
      return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: false, ttlUpdated: false };
    }
    if ((options?.onTtlMismatch ?? 'update') === 'error') {
      throw new TableIncompatibleError(
        `table ${spec.table} has a TTL of ${existing.ttlSeconds} seconds but the store expects ${spec.ttlSeconds}; pass onTtlMismatch: 'update' to change it`,
        { operation: 'init', table: spec.table },
      );
    }
    existing.ttlSeconds = spec.ttlSeconds;
    return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: false, ttlUpdated: true };
  }

  /** @inheritDoc */
  async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    this.#checkOpen('append');
    throwIfAborted(options?.signal, 'append');
    if (rows.length > this.capabilities.maxBatchRows) {
      throw new ValidationError('rows', `Expected at most ${this.capabilities.maxBatchRows} rows per append call, got ${rows.length}`);
    }
    const data = this.#table(table, 'append');
    const now = this.#now();
    this.#maybeSweep(data, now);
    const results: AppendRowResult[] = new Array(rows.length);
    let timelineId: string | undefined;
    let timeline: TimelineData | undefined;
    let writtenAt = now;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      // Consecutive rows of the same timeline (appendMany) need one lookup.
      if (row.timelineId !== timelineId || timeline === undefined) {
        timelineId = row.timelineId;
        timeline = data.timelines.get(timelineId);
        if (timeline === undefined) {
          timeline = { firstSeq: this.#firstSeq, payloads: [], messageIds: undefined, writtenAt: [], head: 0, lastSeq: this.#firstSeq - 1n };
          data.timelines.set(timelineId, timeline);
        }
        const previous = timeline.writtenAt[timeline.writtenAt.length - 1];
        // A clock that steps back must not make a later entry expire before an earlier one.
        writtenAt = previous !== undefined && previous > now ? previous : now;
      }
      if (timeline.lastSeq >= MAX_SEQ) {
        results[i] = { ok: false, error: new BackendError(`timeline ${JSON.stringify(row.timelineId)} has used every 64-bit seq`, { backendCode: 'SeqExhausted', table }) };
        continue;
      }
      const seq = timeline.lastSeq + 1n;
      timeline.lastSeq = seq;
      // A copy: the caller's buffer may be reused or mutated after the call.
      const index = timeline.payloads.push(bytesToString(row.payload)) - 1;
      const messageId = row.messageId;
      if (messageId !== undefined) {
        // Lengthening an array with undefined holes would make it sparse; fill it explicitly.
        if (timeline.messageIds === undefined) timeline.messageIds = Array.from({ length: index }, () => undefined);
        timeline.messageIds.push(messageId);
      } else if (timeline.messageIds !== undefined) {
        timeline.messageIds.push(undefined);
      }
      timeline.writtenAt.push(writtenAt);
      results[i] = { ok: true, seq };
    }
    return results;
  }

  /** @inheritDoc */
  async get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    this.#checkOpen('get');
    throwIfAborted(options?.signal, 'get');
    const data = this.#table(table, 'get');
    const timeline = data.timelines.get(timelineId);
    if (timeline === undefined) return undefined;
    this.#expire(data, timeline, this.#now());
    if (seq < timeline.firstSeq + BigInt(timeline.head) || seq > timeline.lastSeq || timeline.head >= timeline.payloads.length) return undefined;
    return this.#row(timelineId, timeline, Number(seq - timeline.firstSeq));
  }

  /** @inheritDoc */
  async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    this.#checkOpen('scan');
    throwIfAborted(request.signal, 'scan');
    const data = this.#table(table, 'scan');
    const timeline = data.timelines.get(request.timelineId);
    if (timeline === undefined) return { rows: [] };
    this.#expire(data, timeline, this.#now());
    const { head } = timeline;
    const length = timeline.payloads.length;
    const limit = Math.min(request.limit, this.capabilities.maxScanPageRows);
    const rows: StoredRow[] = [];
    if (request.direction === 'forward') {
      let index = request.from === undefined ? head : lowerBound(timeline, request.from, head);
      const end = request.to === undefined ? length : lowerBound(timeline, request.to, index);
      while (index < end && rows.length < limit) rows.push(this.#row(request.timelineId, timeline, index++));
      return index < end ? { rows, next: timeline.firstSeq + BigInt(index) } : { rows };
    }
    // Backward: from the last seq <= from down to (excluding) `to`.
    let index = (request.from === undefined ? length : upperBound(timeline, request.from, head)) - 1;
    const stop = request.to === undefined ? head - 1 : upperBound(timeline, request.to, head) - 1;
    while (index > stop && rows.length < limit) rows.push(this.#row(request.timelineId, timeline, index--));
    return index > stop ? { rows, next: timeline.firstSeq + BigInt(index) } : { rows };
  }

  /** @inheritDoc */
  async close(): Promise<void> {
    this.#closed = true;
    this.#tables.clear();
  }

  /** Number of live (unexpired, not yet reclaimed) entries in a table; for tests and monitoring. */
  size(table: string): number {
    const data = this.#tables.get(table);
    if (data === undefined) return 0;
    const now = this.#now();
    let total = 0;
    for (const timeline of data.timelines.values()) {
      this.#expire(data, timeline, now);
      total += timeline.payloads.length - timeline.head;
    }
    return total;
  }

  /** Number of entries held in memory for a table, including expired ones not yet reclaimed. */
  retained(table: string): number {
    let total = 0;
    for (const timeline of this.#tables.get(table)?.timelines.values() ?? []) total += timeline.payloads.length;
    return total;
  }

  // A fresh copy of the payload on every read, so a reader cannot alter the stored entry.
  #row(timelineId: string, timeline: TimelineData, index: number): StoredRow {
    const messageId = timeline.messageIds?.[index];
    const seq = timeline.firstSeq + BigInt(index);
    const payload = stringToBytes(timeline.payloads[index]!);
    return messageId === undefined ? { timelineId, seq, payload } : { timelineId, seq, payload, messageId };
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new ClosedError('MemoryBackend', { operation });
  }

  #table(table: string, operation: string): TableData {
    const data = this.#tables.get(table);
    if (data === undefined) {
      throw new BackendError(`table ${table} does not exist; call store.init() or ensureTable() first`, {
        backendCode: 'TableNotFound',
        operation,
        table,
      });
    }
    return data;
  }

  // Moves `head` past expired entries and compacts when enough have piled up.
  #expire(data: TableData, timeline: TimelineData, now: number): void {
    if (data.ttlSeconds < 0) return;
    const cutoff = now - data.ttlSeconds * 1000;
    const { writtenAt } = timeline;
    let head = timeline.head;
    if (head >= writtenAt.length || writtenAt[head]! > cutoff) return;
    // writtenAt is non-decreasing, so the expired entries are a prefix: binary search its end.
    let lo = head;
    let hi = writtenAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (writtenAt[mid]! <= cutoff) lo = mid + 1;
      else hi = mid;
    }
    head = lo;
    if (head === writtenAt.length) {
      timeline.firstSeq = timeline.lastSeq + 1n;
      timeline.payloads = [];
      timeline.messageIds = undefined;
      timeline.writtenAt = [];
      timeline.head = 0;
    } else if (head * 2 >= writtenAt.length) {
      // Compacting only once expired entries are at least half keeps the cost amortised O(1) per entry.
      timeline.firstSeq += BigInt(head);
      timeline.payloads.splice(0, head);
      timeline.messageIds?.splice(0, head);
      timeline.writtenAt.splice(0, head);
      timeline.head = 0;
    } else {
      // Drop references so that expired payloads can be collected before compaction.
      for (let i = timeline.head; i < head; i++) timeline.payloads[i] = '';
      timeline.head = head;
    }
  }

  // Timelines nobody reads would otherwise keep their expired entries forever.
  #maybeSweep(data: TableData, now: number): void {
    if (data.ttlSeconds < 0 || now - data.lastSweep < (data.ttlSeconds * 1000) / 10) return;
    data.lastSweep = now;
    for (const timeline of data.timelines.values()) this.#expire(data, timeline, now);
  }
}

// First index >= start whose seq is >= target (entry i has seq firstSeq + i).
function lowerBound(timeline: TimelineData, target: bigint, start: number): number {
  const length = timeline.payloads.length;
  if (target <= timeline.firstSeq + BigInt(start)) return start;
  if (target > timeline.lastSeq || length === 0) return length;
  // Here firstSeq + start < target <= lastSeq, so the difference is a valid index.
  return Math.min(Number(target - timeline.firstSeq), length);
}

// First index >= start whose seq is > target.
function upperBound(timeline: TimelineData, target: bigint, start: number): number {
  return lowerBound(timeline, target + 1n, start);
}

// Payload bytes <-> one-byte strings (char code = byte). Buffer's latin1 methods do this natively;
// they accept any Uint8Array.
interface Latin1Methods {
  latin1Slice?(this: Uint8Array, start: number, end: number): string;
}
const latin1Slice = (Buffer.prototype as unknown as Latin1Methods).latin1Slice;

function bytesToString(bytes: Uint8Array): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, 0, bytes.byteLength);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

// Read copies of small payloads are carved from shared slabs: an ArrayBuffer per row would cost
// more than the row. Slab bytes are never reused, so no returned view is ever overwritten.
const SLAB_BYTES = 16 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabOffset = 0;

function stringToBytes(text: string): Uint8Array {
  const length = text.length;
  if (length > SLAB_BYTES / 4) {
    const bytes = new Uint8Array(length);
    Buffer.from(bytes.buffer, 0, length).write(text, 0, length, 'latin1');
    return bytes;
  }
  if (slabOffset + length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabOffset = 0;
  }
  slab.write(text, slabOffset, length, 'latin1');
  const bytes = new Uint8Array(slab.buffer, slab.byteOffset + slabOffset, length);
  slabOffset += length;
  return bytes;
}
