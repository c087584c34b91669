// The per-message change record (a lock that serialises changes, the revision counter and the
// request ids already applied) and the per-user delete-for-me records, in a record table of the
// message store's backend. See docs/architecture.md ("Message lifecycle").
import { createHash, randomBytes } from 'node:crypto';
import { TimelineError, WriteUncertainError } from '../core/errors.js';
import type { RecordBackend, RecordWriteResult } from '../core/records.js';
import type { Seq } from '../core/types.js';
import type { DiffusionMode } from './messenger-types.js';

const MAX_PARTITION_BYTES = 1024;
/** Request ids remembered per message, for idempotency: far more than a message is ever changed. */
export const REMEMBERED_REQUESTS = 64;
// Seqs are at most 2^63 - 1: 19 digits. Zero-padded so that key order is seq order.
const SEQ_DIGITS = 19;

/** What a change holds while it runs (so that another caller can finish or discard it). */
export interface ChangeLock {
  readonly owner: string;
  readonly leaseUntil: number;
  readonly requestId: string;
  readonly kind: 'recall' | 'edit';
  readonly targets: readonly string[];
  readonly mode: DiffusionMode;
}

/** The change record of one message. */
export interface ChangeState {
  /** Revision of the message: the number of changes applied. */
  readonly revision: number;
  /** Request ids of the changes applied, newest last, at most {@link REMEMBERED_REQUESTS}. */
  readonly requests: readonly string[];
  /** The change in progress, if any. */
  readonly lock?: ChangeLock;
}

/** A record read with its version (for compare-and-set). */
export interface VersionedState {
  readonly state: ChangeState;
  readonly version: string | undefined;
}

/** A fresh, unique record version. */
export function newOwner(): string {
  return randomBytes(12).toString('base64url');
}

/** A seq as a record key whose byte order is the seq order. */
export function seqKey(seq: Seq): string {
  return seq.toString().padStart(SEQ_DIGITS, '0');
}

function partitionOf(prefix: string, parts: readonly string[]): string {
  const plain = `${prefix}:${JSON.stringify(parts)}`;
  if (Buffer.byteLength(plain) <= MAX_PARTITION_BYTES) return plain;
  return `${prefix}#${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

/** Reads and writes the change and delete-for-me records. */
export class ChangeRecords {
  readonly #records: RecordBackend;
  /** The record table. */
  readonly table: string;

  constructor(records: RecordBackend, table: string) {
    this.#records = records;
    this.table = table;
  }

  /** Creates the record table if missing. */
  async ensureTable(): Promise<void> {
    await this.#records.ensureRecordTable({ table: this.table, ttlSeconds: -1 });
  }

  /** The change record of a message (revision 0 and no requests when it was never changed). */
  async read(conversationId: string, seq: Seq, signal?: AbortSignal): Promise<VersionedState> {
    const record = await this.#records.getRecord(this.table, partitionOf('m', [conversationId]), seqKey(seq), signal === undefined ? undefined : { signal });
    if (record === undefined) return { state: { revision: 0, requests: [] }, version: undefined };
    return { state: decode(record.value, this.table, conversationId, seq), version: record.version };
  }

  /**
   * Replaces the change record if it still has version `expected` (absent when undefined).
   * Resolves with the new version, or undefined when someone else changed it first.
   */
  async replace(conversationId: string, seq: Seq, state: ChangeState, expected: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
    const partition = partitionOf('m', [conversationId]);
    const key = seqKey(seq);
    const version = newOwner();
    const [result] = await this.#records.writeRecords(
      this.table,
      [{ type: 'put', partition, key, value: encode(state, conversationId, seq), version, expect: expected === undefined ? 'absent' : { version: expected } }],
      signal === undefined ? undefined : { signal },
    );
    return (await this.#settle(result!, partition, key, version, signal)) ? version : undefined;
  }

  /** Records that `userId` deleted message `seq` of the conversation for themselves (idempotent). */
  async hide(userId: string, conversationId: string, seq: Seq, at: number, signal?: AbortSignal): Promise<void> {
    const [result] = await this.#records.writeRecords(
      this.table,
      [{ type: 'put', partition: partitionOf('d', [userId, conversationId]), key: seqKey(seq), value: Buffer.from(JSON.stringify({ at })), version: newOwner() }],
      signal === undefined ? undefined : { signal },
    );
    // An unconditional put may simply be repeated when its outcome is unknown.
    if (!result!.ok) throw result!.conflict ? new TimelineError('BACKEND', 'an unconditional record put reported a conflict', { table: this.table }) : result!.error;
  }

  /** True when `userId` deleted message `seq` for themselves. */
  async isHidden(userId: string, conversationId: string, seq: Seq, signal?: AbortSignal): Promise<boolean> {
    const record = await this.#records.getRecord(this.table, partitionOf('d', [userId, conversationId]), seqKey(seq), signal === undefined ? undefined : { signal });
    return record !== undefined;
  }

  /** The seqs in [low, high] of the conversation that `userId` deleted for themselves. */
  async hidden(userId: string, conversationId: string, low: Seq, high: Seq, signal?: AbortSignal): Promise<Set<Seq>> {
    const partition = partitionOf('d', [userId, conversationId]);
    const out = new Set<Seq>();
    const limit = Math.min(1000, this.#records.recordLimits.maxScanPageRecords);
    let start = seqKey(low);
    const end = seqKey(high + 1n);
    // Bounded: each page moves `start` forward, and the range is finite.
    for (;;) {
      const page = await this.#records.scanRecords(this.table, { partition, start, end, limit, ...(signal === undefined ? {} : { signal }) });
      for (const record of page.records) out.add(BigInt(record.key));
      if (page.next === undefined) return out;
      start = page.next;
    }
  }

  // True when the write applied. An uncertain outcome is settled by reading the version back.
  async #settle(result: RecordWriteResult, partition: string, key: string, version: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (result.ok) return true;
    if (result.conflict) return false;
    if (result.error instanceof WriteUncertainError) {
      const record = await this.#records.getRecord(this.table, partition, key, signal === undefined ? undefined : { signal });
      return record?.version === version;
    }
    throw result.error;
  }
}

function encode(state: ChangeState, conversationId: string, seq: Seq): Uint8Array {
  const wire: Record<string, unknown> = { c: conversationId, s: seq.toString(), r: state.revision, q: state.requests };
  if (state.lock !== undefined) {
    const l = state.lock;
    wire.l = { o: l.owner, u: l.leaseUntil, q: l.requestId, k: l.kind, t: l.targets, m: l.mode };
  }
  return Buffer.from(JSON.stringify(wire));
}

function decode(value: Uint8Array, table: string, conversationId: string, seq: Seq): ChangeState {
  let wire: Record<string, unknown>;
  try {
    wire = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new TimelineError('CODEC', `a change record of table ${table} is not valid JSON; was the table written by another program?`, { cause: error, table });
  }
  const { c, s, r, q, l } = wire;
  if (c !== conversationId || s !== seq.toString() || typeof r !== 'number' || !Array.isArray(q)) {
    throw new TimelineError('CODEC', `the change record of message ${seq} of ${JSON.stringify(conversationId)} in table ${table} has an unexpected shape`, { table });
  }
  const state: ChangeState = { revision: r, requests: q as string[] };
  if (l === undefined || l === null) return state;
  const lock = l as { o: string; u: number; q: string; k: 'recall' | 'edit'; t: string[]; m: DiffusionMode };
  return { ...state, lock: { owner: lock.o, leaseUntil: lock.u, requestId: lock.q, kind: lock.k, targets: lock.t, mode: lock.m } };
}
