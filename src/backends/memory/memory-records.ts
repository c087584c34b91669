import type { EnsureTableOptions, TableDescription, TableSpec } from '../../core/backend.js';
import { BackendError, TableIncompatibleError, ValidationError } from '../../core/errors.js';
import type {
  RecordBackend,
  RecordCallOptions,
  RecordExpectation,
  RecordLimits,
  RecordScanPage,
  RecordScanRequest,
  RecordWrite,
  RecordWriteResult,
  StoredRecord,
} from '../../core/records.js';
import { throwIfAborted } from '../../core/validate.js';

interface Held {
  readonly value: Uint8Array;
  readonly version: string;
  readonly writtenAt: number;
}

interface Partition {
  // Keys in code-point order (= UTF-8 byte order, the order TableStore sorts string keys in).
  readonly keys: string[];
  readonly records: Map<string, Held>;
}

interface RecordTable {
  ttlSeconds: number;
  readonly partitions: Map<string, Partition>;
}

/** What {@link MemoryRecords} borrows from its {@link MemoryBackend}. */
export interface MemoryRecordsHost {
  /** The backend's clock, for TTL. */
  readonly now: () => number;
  /** Throws a `ClosedError` once the backend is closed. */
  readonly checkOpen: (operation: string) => void;
}

/**
 * The keyed-record capability of {@link MemoryBackend} (`backend.records`): conditional puts and
 * deletes, point reads and key-ordered scans, with TTL exact at read time against the backend's
 * clock. Records live in their own tables, apart from timeline tables of the same name.
 */
export class MemoryRecords implements RecordBackend {
  /** @inheritDoc */
  readonly recordLimits: RecordLimits = Object.freeze({ maxBatchWrites: 200, maxValueBytes: 2 * 1024 * 1024, maxKeyBytes: 1024, maxScanPageRecords: 5000 });
  readonly #tables = new Map<string, RecordTable>();
  readonly #host: MemoryRecordsHost;

  /** @internal */
  constructor(host: MemoryRecordsHost) {
    this.#host = host;
  }

  /** @inheritDoc */
  async ensureRecordTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    this.#host.checkOpen('ensureRecordTable');
    throwIfAborted(options?.signal, 'ensureRecordTable');
    const existing = this.#tables.get(spec.table);
    if (existing === undefined) {
      this.#tables.set(spec.table, { ttlSeconds: spec.ttlSeconds, partitions: new Map() });
      return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: true, ttlUpdated: false };
    }
    if (existing.ttlSeconds === spec.ttlSeconds) return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: false, ttlUpdated: false };
    if (options?.onTtlMismatch !== 'update') {
      throw new TableIncompatibleError(
        `record table ${spec.table} has a TTL of ${existing.ttlSeconds} seconds but ${spec.ttlSeconds} was expected; pass onTtlMismatch: 'update' to change it`,
        { operation: 'init', table: spec.table },
      );
    }
    existing.ttlSeconds = spec.ttlSeconds;
    return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: false, ttlUpdated: true };
  }

  /** @inheritDoc */
  async writeRecords(table: string, writes: readonly RecordWrite[], options?: RecordCallOptions): Promise<RecordWriteResult[]> {
    this.#host.checkOpen('writeRecords');
    throwIfAborted(options?.signal, 'writeRecords');
    if (writes.length > this.recordLimits.maxBatchWrites) {
      throw new ValidationError('writes', `Expected at most ${this.recordLimits.maxBatchWrites} writes per writeRecords call, got ${writes.length}`);
    }
    const data = this.#table(table, 'writeRecords');
    const now = this.#host.now();
    // TableStore rejects a batch naming one row twice as a whole; so does this backend.
    const seen = new Set<string>();
    for (const write of writes) {
      const id = `${write.partition.length}:${write.partition}${write.key}`;
      if (seen.has(id)) {
        throw new ValidationError('writes', `Expected each record at most once per writeRecords call; ${JSON.stringify(write.partition)}/${JSON.stringify(write.key)} appears twice`);
      }
      seen.add(id);
    }
    return writes.map((write) => {
      const current = this.#live(data, write.partition, write.key, now);
      if (!holds(write.expect, current)) return { ok: false, conflict: true };
      if (write.type === 'put') {
        // A copy: the caller's buffer may be reused after the call.
        this.#store(data, write.partition, write.key, { value: Uint8Array.from(write.value), version: write.version, writtenAt: now });
      } else {
        this.#remove(data, write.partition, write.key);
      }
      return { ok: true };
    });
  }

  /** @inheritDoc */
  async getRecord(table: string, partition: string, key: string, options?: RecordCallOptions): Promise<StoredRecord | undefined> {
    this.#host.checkOpen('getRecord');
    throwIfAborted(options?.signal, 'getRecord');
    const held = this.#live(this.#table(table, 'getRecord'), partition, key, this.#host.now());
    return held === undefined ? undefined : { partition, key, value: Uint8Array.from(held.value), version: held.version };
  }

  /** @inheritDoc */
  async scanRecords(table: string, request: RecordScanRequest): Promise<RecordScanPage> {
    this.#host.checkOpen('scanRecords');
    throwIfAborted(request.signal, 'scanRecords');
    const data = this.#table(table, 'scanRecords');
    const part = data.partitions.get(request.partition);
    if (part === undefined) return { records: [] };
    const now = this.#host.now();
    const limit = Math.min(request.limit, this.recordLimits.maxScanPageRecords);
    const records: StoredRecord[] = [];
    let index = request.start === undefined ? 0 : lowerBound(part.keys, request.start);
    for (; index < part.keys.length && records.length < limit; index++) {
      const key = part.keys[index]!;
      if (request.end !== undefined && compareKeys(key, request.end) >= 0) return { records };
      const held = this.#live(data, request.partition, key, now);
      if (held !== undefined) records.push({ partition: request.partition, key, value: Uint8Array.from(held.value), version: held.version });
      // #live may have removed an expired key at `index`.
      if (part.keys[index] !== key) index--;
    }
    const next = part.keys[index];
    return next !== undefined && (request.end === undefined || compareKeys(next, request.end) < 0) ? { records, next } : { records };
  }

  #table(table: string, operation: string): RecordTable {
    const data = this.#tables.get(table);
    if (data === undefined) {
      throw new BackendError(`record table ${table} does not exist; call ensureRecordTable() first`, { backendCode: 'TableNotFound', operation, table });
    }
    return data;
  }

  // The record if it exists and has not expired; an expired one is reclaimed on the way.
  #live(data: RecordTable, partition: string, key: string, now: number): Held | undefined {
    const held = data.partitions.get(partition)?.records.get(key);
    if (held === undefined) return undefined;
    if (data.ttlSeconds >= 0 && held.writtenAt <= now - data.ttlSeconds * 1000) {
      this.#remove(data, partition, key);
      return undefined;
    }
    return held;
  }

  #store(data: RecordTable, partition: string, key: string, held: Held): void {
    let part = data.partitions.get(partition);
    if (part === undefined) {
      part = { keys: [], records: new Map() };
      data.partitions.set(partition, part);
    }
    if (!part.records.has(key)) part.keys.splice(lowerBound(part.keys, key), 0, key);
    part.records.set(key, held);
  }

  #remove(data: RecordTable, partition: string, key: string): void {
    const part = data.partitions.get(partition);
    if (part === undefined || !part.records.delete(key)) return;
    part.keys.splice(lowerBound(part.keys, key), 1);
    if (part.records.size === 0) data.partitions.delete(partition);
  }
}

function holds(expect: RecordExpectation | undefined, current: Held | undefined): boolean {
  if (expect === undefined) return true;
  if (expect === 'absent') return current === undefined;
  if (expect === 'present') return current !== undefined;
  if ('versionBelow' in expect) return current === undefined || compareUtf8(current.version, expect.versionBelow) < 0;
  return current !== undefined && current.version === expect.version;
}

/**
 * Orders strings by code point, which is the byte order of their UTF-8 encodings (JavaScript's `<`
 * compares UTF-16 code units, which puts U+E000..U+FFFF after the astral planes).
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (0xD800..0xDFFF) stands for a code point above 0xFFFF: it sorts after every
    // other code unit.
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Byte order of the UTF-8 encodings, as TableStore compares STRING columns.
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
