import type { RecordBackend } from '../../core/records.js';
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
import { BackendError, TableIncompatibleError, ValidationError } from '../../core/errors.js';
import type { EntryMutations } from '../../core/mutations.js';
import { entryNotFound } from '../../core/timeline-mutations.js';
import { MAX_SEQ } from '../../core/validate.js';
import { bytesToString, stringToBytes } from './payload-strings.js';

// The in-memory tables behind MemoryBackend: the raw TimelineBackend, without the closed and
// abort checks that GuardedBackend (MemoryBackend's base class) adds.

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
  // Kept while the timeline is held, even when every entry has expired, so that seqs never go
  // back (a device's cursor may still point past them).
  lastSeq: bigint;
  // Seqs deleted in place (Timeline.delete): their slots stay so that index = seq - firstSeq holds.
  deleted?: Set<bigint> | undefined;
}

interface TableData {
  ttlSeconds: number;
  timelines: Map<string, TimelineData>;
  lastSweep: number;
  // The sweep drops timelines whose entries have all expired (else 20,000 new ids a day would
  // keep about 5 MB a day forever). Their seq floor must still hold for a reused id, so the table
  // keeps one number instead: the highest seq any dropped timeline used. A timeline created after
  // a drop starts above it, so no reused id's seqs ever go back, in O(1) memory.
  droppedSeqFloor: bigint;
}

function isDeleted(timeline: TimelineData, index: number): boolean {
  return timeline.deleted !== undefined && timeline.deleted.has(timeline.firstSeq + BigInt(index));
}

/** The raw in-memory storage; see {@link MemoryBackend} for its behaviour. */
export class MemoryStorage implements TimelineBackend {
  readonly capabilities: BackendCapabilities;
  readonly #tables = new Map<string, TableData>();
  readonly #firstSeq: bigint;
  readonly #now: () => number;

  readonly records: RecordBackend;

  /** In-place update (keeps the entry's seq, message id and expiry) and delete of entries. */
  readonly mutations: EntryMutations = {
    update: async (table, timelineId, seq, payload) => {
      const data = this.#table(table, 'update');
      const timeline = data.timelines.get(timelineId);
      const index = timeline === undefined ? -1 : this.#liveIndex(data, timeline, seq);
      if (index < 0) throw entryNotFound(table, timelineId, seq);
      timeline!.payloads[index] = bytesToString(payload);
    },
    delete: async (table, timelineId, seq) => {
      const data = this.#table(table, 'delete');
      const timeline = data.timelines.get(timelineId);
      if (timeline === undefined || this.#liveIndex(data, timeline, seq) < 0) return;
      (timeline.deleted ??= new Set()).add(seq);
      // Free the payload now; the slot itself goes with compaction.
      timeline.payloads[Number(seq - timeline.firstSeq)] = '';
    },
  };

  constructor(settings: { firstSeq: bigint; now: () => number; capabilities: BackendCapabilities; records: RecordBackend }) {
    this.records = settings.records;
    this.#firstSeq = settings.firstSeq;
    this.#now = settings.now;
    this.capabilities = settings.capabilities;
  }

  async ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    const existing = this.#tables.get(spec.table);
    if (existing === undefined) {
      this.#tables.set(spec.table, { ttlSeconds: spec.ttlSeconds, timelines: new Map(), lastSweep: this.#now(), droppedSeqFloor: -1n });
      return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: true, ttlUpdated: false };
    }
    if (existing.ttlSeconds === spec.ttlSeconds) {
      return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: false, ttlUpdated: false };
    }
    // Changing a TTL can delete data (shorter) or keep it forever (-1): only when asked for.
    if ((options?.onTtlMismatch ?? 'error') !== 'update') {
      throw new TableIncompatibleError(
        `table ${spec.table} has a TTL of ${existing.ttlSeconds} seconds but the store expects ${spec.ttlSeconds}; pass onTtlMismatch: 'update' to change it`,
        { operation: 'init', table: spec.table },
      );
    }
    existing.ttlSeconds = spec.ttlSeconds;
    return { table: spec.table, ttlSeconds: spec.ttlSeconds, created: false, ttlUpdated: true };
  }

  async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
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
    // A fan-out passes one payload object for every row: convert it once per call. The string is
    // immutable, so the rows may share it; the caller's buffer cannot change during this loop.
    let lastPayload: Uint8Array | undefined;
    let lastText = '';
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      // Consecutive rows of the same timeline (appendMany) need one lookup.
      if (row.timelineId !== timelineId || timeline === undefined) {
        timelineId = row.timelineId;
        timeline = data.timelines.get(timelineId);
        if (timeline === undefined) {
          const first = data.droppedSeqFloor >= this.#firstSeq ? data.droppedSeqFloor + 1n : this.#firstSeq;
          timeline = { firstSeq: first, payloads: [], messageIds: undefined, writtenAt: [], head: 0, lastSeq: first - 1n };
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
      if (row.payload !== lastPayload) {
        lastPayload = row.payload;
        lastText = bytesToString(row.payload);
      }
      const index = timeline.payloads.push(lastText) - 1;
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

  async get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    const data = this.#table(table, 'get');
    const timeline = data.timelines.get(timelineId);
    if (timeline === undefined) return undefined;
    const index = this.#liveIndex(data, timeline, seq);
    return index < 0 ? undefined : this.#row(timelineId, timeline, index);
  }

  async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
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
      while (index < end && rows.length < limit) {
        if (!isDeleted(timeline, index)) rows.push(this.#row(request.timelineId, timeline, index));
        index++;
      }
      return index < end ? { rows, next: timeline.firstSeq + BigInt(index) } : { rows };
    }
    // Backward: from the last seq <= from down to (excluding) `to`.
    let index = (request.from === undefined ? length : upperBound(timeline, request.from, head)) - 1;
    const stop = request.to === undefined ? head - 1 : upperBound(timeline, request.to, head) - 1;
    while (index > stop && rows.length < limit) {
      if (!isDeleted(timeline, index)) rows.push(this.#row(request.timelineId, timeline, index));
      index--;
    }
    return index > stop ? { rows, next: timeline.firstSeq + BigInt(index) } : { rows };
  }

  async close(): Promise<void> {
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
      if (timeline.deleted !== undefined) for (const seq of timeline.deleted) if (seq >= timeline.firstSeq + BigInt(timeline.head)) total -= 1;
    }
    return total;
  }

  /** Number of timelines held for a table. */
  timelineCount(table: string): number {
    return this.#tables.get(table)?.timelines.size ?? 0;
  }

  /** Number of entries held in memory for a table, including expired ones not yet reclaimed. */
  retained(table: string): number {
    let total = 0;
    for (const timeline of this.#tables.get(table)?.timelines.values() ?? []) total += timeline.payloads.length;
    return total;
  }

  // The array index of a live (unexpired, undeleted) entry at `seq`, or -1.
  #liveIndex(data: TableData, timeline: TimelineData, seq: bigint): number {
    this.#expire(data, timeline, this.#now());
    if (seq < timeline.firstSeq + BigInt(timeline.head) || seq > timeline.lastSeq || timeline.head >= timeline.payloads.length) return -1;
    const index = Number(seq - timeline.firstSeq);
    return isDeleted(timeline, index) ? -1 : index;
  }

  // A fresh copy of the payload on every read, so a reader cannot alter the stored entry.
  #row(timelineId: string, timeline: TimelineData, index: number): StoredRow {
    const messageId = timeline.messageIds?.[index];
    const seq = timeline.firstSeq + BigInt(index);
    const payload = stringToBytes(timeline.payloads[index]!);
    return messageId === undefined ? { timelineId, seq, payload } : { timelineId, seq, payload, messageId };
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
      timeline.deleted = undefined;
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
    for (const [timelineId, timeline] of data.timelines) {
      this.#expire(data, timeline, now);
      if (timeline.payloads.length === 0) {
        // Deleting the current entry while iterating a Map is safe.
        data.timelines.delete(timelineId);
        if (timeline.lastSeq > data.droppedSeqFloor) data.droppedSeqFloor = timeline.lastSeq;
      }
    }
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
