// The rows behind the conversation list, read positions and receipts, in one record table:
//
//   partition u:<userId>          key a:<conversationId>  the user's list row: latest activity
//                                 key r:<conversationId>  the user's read position
//   partition c:<conversationId>  key <userId>            the same read position, for receipts
//
// Every row is written by a monotonic put (`versionBelow`): its version starts with the seq it
// records, zero-padded to a fixed width, so a stale writer (an older send finishing late, a device
// that read less) can never move a row back, in one request and without reading it first.
import { createHash, randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { TimelineError } from '../core/errors.js';
import type { RecordBackend, RecordWrite, RecordWriteResult } from '../core/records.js';
import type { Seq } from '../core/types.js';

/** How a conversation is shown: a 1:1 chat or a group. */
export type ConversationKind = 'direct' | 'group';

/** A user's list row: the latest message that reached the user's inbox in that conversation. */
export interface ActivityRow {
  readonly conversationId: string;
  readonly seq: Seq;
  /** `sentAt` of that message. */
  readonly at: number;
  readonly kind: ConversationKind;
}

/** Everything in a user's partition. */
export interface UserRows {
  readonly activity: Map<string, ActivityRow>;
  readonly reads: Map<string, Seq>;
}

const MAX_KEY_BYTES = 1024;
// Seqs are below 2^64: 20 decimal digits.
const SEQ_WIDTH = 20;

/** The record-table side of conversations: it decides nothing, the flows in conversations.ts do. */
export class ConversationRecords {
  readonly #records: RecordBackend;
  /** The record table. */
  readonly table: string;
  readonly #concurrency: number;

  constructor(records: RecordBackend, table: string, concurrency: number) {
    this.#records = records;
    this.table = table;
    this.#concurrency = concurrency;
  }

  /** Creates the table (no TTL: read positions must outlive any inbox). */
  async ensureTable(): Promise<void> {
    await this.#records.ensureRecordTable({ table: this.table, ttlSeconds: -1 });
  }

  /**
   * Moves the list row of each user to this message, in batches of the backend's
   * `maxBatchWrites` (⌈users/200⌉ requests on TableStore). Returns the users whose row could not
   * be written (a conflict, i.e. the row is already at this or a newer message, is success).
   */
  async touch(users: readonly string[], row: ActivityRow, signal: AbortSignal | undefined): Promise<{ userId: string; error: TimelineError }[]> {
    const value = encode({ c: row.conversationId, q: row.seq.toString(), t: row.at, k: row.kind });
    const writes = users.map((userId): RecordWrite => monotonicPut(userPartition(userId), listKey(row.conversationId), value, row.seq));
    const failed: { userId: string; error: TimelineError }[] = [];
    const size = this.#records.recordLimits.maxBatchWrites;
    const limit = pLimit(this.#concurrency);
    await Promise.all(
      chunk(writes.length, size).map(([start, end]) =>
        limit(async () => {
          let results: RecordWriteResult[];
          try {
            results = await this.#records.writeRecords(this.table, writes.slice(start, end), signal === undefined ? undefined : { signal });
          } catch (error) {
            const wrapped = error instanceof TimelineError ? error : new TimelineError('BACKEND', String(error), { cause: error, table: this.table });
            for (let i = start; i < end; i++) failed.push({ userId: users[i]!, error: wrapped });
            return;
          }
          results.forEach((result, i) => {
            if (!result.ok && !result.conflict) failed.push({ userId: users[start + i]!, error: result.error });
          });
        }),
      ),
    );
    return failed;
  }

  /**
   * Moves a user's read position forward to `seq`, on the user's side and (with `receipt`) on the
   * conversation's side, in one request. Returns whether the user's position moved.
   */
  async markRead(userId: string, conversationId: string, seq: Seq, receipt: boolean, signal: AbortSignal | undefined): Promise<boolean> {
    const writes: RecordWrite[] = [monotonicPut(userPartition(userId), readKey(conversationId), encode({ c: conversationId, q: seq.toString() }), seq)];
    if (receipt) writes.push(monotonicPut(conversationPartition(conversationId), userId, encode({ u: userId, q: seq.toString() }), seq));
    const results = await this.#records.writeRecords(this.table, writes, signal === undefined ? undefined : { signal });
    const failure = results.find((r): r is Extract<RecordWriteResult, { conflict: false }> => !r.ok && !r.conflict);
    if (failure !== undefined) throw failure.error;
    return results[0]!.ok;
  }

  /** A user's list row of one conversation. */
  async activity(userId: string, conversationId: string, signal: AbortSignal | undefined): Promise<ActivityRow | undefined> {
    const record = await this.#records.getRecord(this.table, userPartition(userId), listKey(conversationId), signal === undefined ? undefined : { signal });
    if (record === undefined) return undefined;
    const row = decodeActivity(record.value, this.table);
    return row.conversationId === conversationId ? row : undefined;
  }

  /** Every row of a user's partition; at most `max` rows, else a `NOT_SUPPORTED` error. */
  async userRows(userId: string, max: number, signal: AbortSignal | undefined): Promise<UserRows> {
    const activity = new Map<string, ActivityRow>();
    const reads = new Map<string, Seq>();
    for await (const record of this.#scan(userPartition(userId), max, signal, 'conversations')) {
      if (record.key.startsWith('a:') || record.key.startsWith('A:')) {
        const row = decodeActivity(record.value, this.table);
        activity.set(row.conversationId, row);
      } else {
        const { c, q } = decode(record.value, this.table);
        if (typeof c !== 'string') throw corrupt(this.table);
        reads.set(c, seqOf(q, this.table));
      }
    }
    return { activity, reads };
  }

  /** The read positions kept for receipts of one conversation; at most `max`, else `NOT_SUPPORTED`. */
  async receipts(conversationId: string, max: number, signal: AbortSignal | undefined): Promise<Map<string, Seq>> {
    const out = new Map<string, Seq>();
    for await (const record of this.#scan(conversationPartition(conversationId), max, signal, 'readReceipts')) {
      const { u, q } = decode(record.value, this.table);
      if (typeof u !== 'string') throw corrupt(this.table);
      out.set(u, seqOf(q, this.table));
    }
    return out;
  }

  async *#scan(partition: string, max: number, signal: AbortSignal | undefined, operation: string) {
    let start: string | undefined;
    let seen = 0;
    // Bounded: every page either ends the partition or adds records towards `max`.
    for (let page = 0; page <= max; page++) {
      const limit = Math.min(this.#records.recordLimits.maxScanPageRecords, max + 1 - seen);
      const result = await this.#records.scanRecords(this.table, { partition, limit, ...(start === undefined ? {} : { start }), ...(signal === undefined ? {} : { signal }) });
      seen += result.records.length;
      if (seen > max) {
        throw new TimelineError('NOT_SUPPORTED', `${operation}: partition ${JSON.stringify(partition)} of table ${this.table} holds more than ${max} records, more than this Messenger reads in one call; raise \`conversations.maxRows\``, {
          operation,
          table: this.table,
        });
      }
      yield* result.records;
      if (result.next === undefined) return;
      start = result.next;
    }
  }
}

/** The version of a monotonic row at `seq`: the padded seq, then a random suffix unique per write. */
export function versionAt(seq: Seq): string {
  return `${seq.toString().padStart(SEQ_WIDTH, '0')}.${randomBytes(6).toString('base64url')}`;
}

function monotonicPut(partition: string, key: string, value: Uint8Array, seq: Seq): RecordWrite {
  // '<padded seq>' sorts after every version of a smaller seq and before every version of this one.
  return { type: 'put', partition, key, value, version: versionAt(seq), expect: { versionBelow: seq.toString().padStart(SEQ_WIDTH, '0') } };
}

// Structured keys: the one-letter prefix keeps rows apart; an id too long for TableStore's 1 KB
// primary-key limit with its prefix is replaced by its digest, and the row carries the id.
function userPartition(userId: string): string {
  return bounded('u:', userId);
}

function conversationPartition(conversationId: string): string {
  return bounded('c:', conversationId);
}

function listKey(conversationId: string): string {
  return bounded('a:', conversationId);
}

function readKey(conversationId: string): string {
  return bounded('r:', conversationId);
}

function bounded(prefix: string, id: string): string {
  const plain = prefix + id;
  if (Buffer.byteLength(plain) <= MAX_KEY_BYTES) return plain;
  // The upper-case prefix marks a digest, so that no plain id can collide with one.
  return `${prefix.toUpperCase()}${createHash('sha256').update(id).digest('hex')}`;
}

function chunk(length: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < length; start += size) out.push([start, Math.min(length, start + size)]);
  return out;
}

// --- encoding: JSON with seqs as decimal strings (exact) -----------------------------------------

function encode(wire: Record<string, unknown>): Uint8Array {
  return Buffer.from(JSON.stringify(wire));
}

function decode(value: Uint8Array, table: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (error) {
    throw corrupt(table, error);
  }
  throw corrupt(table);
}

function decodeActivity(value: Uint8Array, table: string): ActivityRow {
  const { c, q, t, k } = decode(value, table);
  if (typeof c !== 'string' || typeof t !== 'number' || (k !== 'direct' && k !== 'group')) throw corrupt(table);
  return { conversationId: c, seq: seqOf(q, table), at: t, kind: k };
}

function seqOf(value: unknown, table: string): Seq {
  if (typeof value !== 'string' || !/^[0-9]{1,20}$/.test(value)) throw corrupt(table);
  return BigInt(value);
}

function corrupt(table: string, cause?: unknown): TimelineError {
  return new TimelineError('CODEC', `a conversation record of table ${table} is not what this library writes; was the table written by another program?`, {
    table,
    ...(cause === undefined ? {} : { cause }),
  });
}
