// The send journal: one keyed record per (conversationId, messageId) that turns a send into a
// single logical operation across processes, plus a "pending" hint per unfinished send so that
// recovery can find sends whose owner died without scanning every journal record.
import { hash, randomFillSync } from 'node:crypto';
import { TimelineError, WriteUncertainError } from '../core/errors.js';
import type { RecordBackend, RecordWrite, RecordWriteResult } from '../core/records.js';
import type { Seq } from '../core/types.js';
import type { FanOutResult } from './fan-out.js';
import type { DiffusionMode } from './messenger-types.js';

/** Number of partitions the pending hints are spread over, so that no one partition is hot. */
export const PENDING_SHARDS = 16;
const MAX_PARTITION_BYTES = 1024;

/** A journaled send as stored. */
export interface JournalState {
  readonly conversationId: string;
  readonly messageId: string;
  /** `claimed`: an owner is storing or fanning out; `done`: finished (possibly with failed inboxes). */
  readonly state: 'claimed' | 'done';
  /** Who holds the claim: a random token per claim. */
  readonly owner: string;
  /** Until when (the Messenger's clock, ms) nobody else may take the claim over. */
  readonly leaseUntil: number;
  readonly senderId: string;
  readonly mode: DiffusionMode;
  /** The inboxes the send must reach (write diffusion), the sender's included. */
  readonly targets: readonly string[];
  /** When the send was claimed: the stored entry's `sentAt` is not earlier. */
  readonly claimedAt: number;
  /** Set once done: the store seq. */
  readonly seq?: Seq;
  /** Set once done: the fan-out outcome. */
  readonly fanOut?: FanOutResult;
}

/** A journal record read back, with the version that a compare-and-set must name. */
export interface JournalRead {
  readonly state: JournalState;
  readonly version: string;
}

/** Where a send's journal record and pending hint live. */
interface Location {
  readonly partition: string;
  readonly key: string;
  readonly pendingPartition: string;
  readonly pendingKey: string;
}

/** A pending hint found by {@link SendJournal.pending}. */
export interface PendingHint {
  readonly conversationId: string;
  readonly messageId: string;
  readonly claimedAt: number;
  readonly version: string;
  readonly partition: string;
  readonly key: string;
}

// Random bytes drawn ahead for version tokens: one call to the system's generator per 512 tokens
// instead of one per token (the tokens are as random, and never share bytes).
const TOKEN_BYTES = 12;
const TOKENS_PER_DRAW = 512;
const drawn = Buffer.alloc(TOKEN_BYTES * TOKENS_PER_DRAW);
let nextToken = TOKENS_PER_DRAW;

/** A fresh, unguessable version token: 96 random bits, base64url. */
export function newVersion(): string {
  if (nextToken === TOKENS_PER_DRAW) {
    randomFillSync(drawn);
    nextToken = 0;
  }
  const start = TOKEN_BYTES * nextToken++;
  return drawn.toString('base64url', start, start + TOKEN_BYTES);
}

/**
 * The journal's reads and conditional writes. It decides nothing: the Messenger's send and
 * recovery flows do.
 */
export class SendJournal {
  readonly #records: RecordBackend;
  /** The record table. */
  readonly table: string;

  constructor(records: RecordBackend, table: string) {
    this.#records = records;
    this.table = table;
  }

  /** Creates the record table if missing (see `RecordBackend.ensureRecordTable`). */
  async ensureTable(spec: { table: string; ttlSeconds: number }): Promise<void> {
    await this.#records.ensureRecordTable(spec);
  }

  /**
   * Claims a send: the journal record if absent, and the pending hint. One request. Resolves with
   * the claim's version, or undefined when another claim holds the record.
   */
  async claim(state: JournalState, signal?: AbortSignal): Promise<string | undefined> {
    const at = locate(state.conversationId, state.messageId);
    const version = newVersion();
    const [journal, hint] = await this.#records.writeRecords(
      this.table,
      [
        { type: 'put', partition: at.partition, key: at.key, value: encodeState(state), version, expect: 'absent' },
        // Unconditional: it replaces an orphaned hint of an earlier claim, whose cleaner then
        // fails its compare-and-set instead of deleting this one.
        { type: 'put', partition: at.pendingPartition, key: at.pendingKey, value: encodeHint(state), version },
      ],
      signal === undefined ? undefined : { signal },
    );
    let won: boolean;
    try {
      won = await this.#settle(journal!, at, version, signal);
    } catch (error) {
      // Whether the claim landed is unknown: take it back if it did, so it blocks nobody.
      await this.#releaseQuietly(at, version);
      throw error;
    }
    if (!won) return undefined;
    if (!hint!.ok && !(await this.#ensureHint(at, state, version, hint!))) {
      // Without its hint a crash could not be found by recovery: give the claim back and fail.
      await this.#releaseQuietly(at, version);
      throw failure(hint!, 'the send journal could not record the pending send; nothing was stored');
    }
    return version;
  }

  // The hint of a claim whose hint write did not clearly succeed: read it back when the outcome is
  // unknown, write it again otherwise; up to three tries.
  async #ensureHint(at: Location, state: JournalState, version: string, first: RecordWriteResult): Promise<boolean> {
    let last = first;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        if (!last.ok && !last.conflict && last.error instanceof WriteUncertainError) {
          const found = await this.#records.getRecord(this.table, at.pendingPartition, at.pendingKey);
          if (found?.version === version) return true;
        }
        [last] = (await this.#records.writeRecords(this.table, [{ type: 'put', partition: at.pendingPartition, key: at.pendingKey, value: encodeHint(state), version }])) as [RecordWriteResult];
        if (last.ok) return true;
      } catch {
        // try again
      }
    }
    return false;
  }

  // Deletes a claim of ours (compare-and-set on its version) and its hint; a few tries, never throws.
  async #releaseQuietly(at: Location, version: string): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const [journal] = await this.#records.writeRecords(this.table, [
          { type: 'delete', partition: at.partition, key: at.key, expect: { version } },
          { type: 'delete', partition: at.pendingPartition, key: at.pendingKey, expect: { version } },
        ]);
        if (journal!.ok || journal!.conflict) return;
      } catch {
        // try again
      }
    }
  }

  /** Reads a send's journal record. */
  async read(conversationId: string, messageId: string, signal?: AbortSignal): Promise<JournalRead | undefined> {
    const at = locate(conversationId, messageId);
    const record = await this.#records.getRecord(this.table, at.partition, at.key, signal === undefined ? undefined : { signal });
    if (record === undefined) return undefined;
    const state = decodeState(record.value, this.table);
    // The partition of a very long conversation id is a digest: make sure it is this send's record.
    if (state.conversationId !== conversationId || state.messageId !== messageId) {
      throw new TimelineError('CODEC', `send journal record ${at.partition}/${at.key} belongs to another send`, { operation: 'send', table: this.table });
    }
    return { state, version: record.version };
  }

  /**
   * Replaces the record if it still has `expected` as its version (compare-and-set), re-writing the
   * pending hint for a claimed state. Resolves with the new version, or undefined when someone
   * else changed the record first.
   */
  async replace(state: JournalState, expected: string, signal?: AbortSignal): Promise<string | undefined> {
    const at = locate(state.conversationId, state.messageId);
    // An attempt whose outcome was unknown and that did not land (the record still has `expected`)
    // is tried again: treating it as a lost race would strand a claim nobody works on.
    for (let attempt = 1; ; attempt++) {
      const version = newVersion();
      const writes: RecordWrite[] = [{ type: 'put', partition: at.partition, key: at.key, value: encodeState(state), version, expect: { version: expected } }];
      if (state.state === 'claimed') writes.push({ type: 'put', partition: at.pendingPartition, key: at.pendingKey, value: encodeHint(state), version });
      else writes.push({ type: 'delete', partition: at.pendingPartition, key: at.pendingKey, expect: { version: expected } });
      const [journal] = await this.#records.writeRecords(this.table, writes, signal === undefined ? undefined : { signal });
      let outcome: 'applied' | 'lost' | 'not-applied';
      try {
        outcome = await this.#settleReplace(journal!, at, version, expected, signal);
      } catch (error) {
        // Whether it landed is unknown. A claim it may have made is given up (lease 0), so that it
        // blocks nobody; then the caller fails.
        if (state.state === 'claimed') await this.#abandonQuietly(at, state, version);
        throw error;
      }
      if (outcome === 'applied') return version;
      if (outcome === 'lost' || attempt >= 3) return undefined;
    }
  }

  async #settleReplace(result: RecordWriteResult, at: Location, version: string, expected: string, signal: AbortSignal | undefined): Promise<'applied' | 'lost' | 'not-applied'> {
    if (result.ok) return 'applied';
    if (result.conflict) return 'lost';
    if (!(result.error instanceof WriteUncertainError)) throw result.error;
    const current = await this.#readVersion(at, signal);
    if (current === version) return 'applied';
    return current === expected ? 'not-applied' : 'lost';
  }

  // The version of a send's journal record (undefined when absent), read up to three times: a
  // write whose fate is left unknown would block its message for a whole lease.
  async #readVersion(at: Location, signal: AbortSignal | undefined): Promise<string | undefined> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        return (await this.#records.getRecord(this.table, at.partition, at.key, signal === undefined ? undefined : { signal }))?.version;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  // Sets a claim's lease to 0 if it still has `version`; a few tries, never throws.
  async #abandonQuietly(at: Location, state: JournalState, version: string): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const [undo] = await this.#records.writeRecords(this.table, [
          { type: 'put', partition: at.partition, key: at.key, value: encodeState({ ...state, leaseUntil: 0 }), version: newVersion(), expect: { version } },
        ]);
        if (undo!.ok || undo!.conflict) return;
      } catch {
        // try again
      }
    }
  }

  /**
   * Removes a claim (compare-and-set on `expected`) and its hint, so that a later send of the same
   * message can claim it afresh. False when someone else changed the record first.
   */
  async release(conversationId: string, messageId: string, expected: string): Promise<boolean> {
    const at = locate(conversationId, messageId);
    const [journal] = await this.#records.writeRecords(this.table, [
      { type: 'delete', partition: at.partition, key: at.key, expect: { version: expected } },
      { type: 'delete', partition: at.pendingPartition, key: at.pendingKey, expect: { version: expected } },
    ]);
    if (journal!.ok) return true;
    if (journal!.conflict) return false;
    if (journal!.error instanceof WriteUncertainError) {
      const after = await this.#records.getRecord(this.table, at.partition, at.key);
      return after === undefined;
    }
    throw journal!.error;
  }

  /** Every pending hint, shard by shard, a page at a time. */
  async *pending(signal?: AbortSignal): AsyncGenerator<PendingHint> {
    const limit = Math.min(1000, this.#records.recordLimits.maxScanPageRecords);
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      const partition = pendingPartition(shard);
      let start: string | undefined;
      // Bounded: a shard holds only unfinished sends, and each page moves `start` forward.
      for (;;) {
        const page = await this.#records.scanRecords(this.table, { partition, limit, ...(start === undefined ? {} : { start }), ...(signal === undefined ? {} : { signal }) });
        for (const record of page.records) {
          const hint = decodeHint(record.value, this.table);
          yield { ...hint, version: record.version, partition, key: record.key };
        }
        if (page.next === undefined) break;
        start = page.next;
      }
    }
  }

  /** Deletes a pending hint if it still has the given version. */
  async dropHint(hint: PendingHint): Promise<void> {
    await this.#records.writeRecords(this.table, [{ type: 'delete', partition: hint.partition, key: hint.key, expect: { version: hint.version } }]);
  }

  // True when the write applied. A conflict is a lost race; an uncertain outcome is settled by
  // reading the version back (the version was chosen before sending, so it identifies our write).
  async #settle(result: RecordWriteResult, at: Location, version: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (result.ok) return true;
    if (result.conflict) return false;
    if (result.error instanceof WriteUncertainError) return (await this.#readVersion(at, signal)) === version;
    throw result.error;
  }
}

function failure(result: RecordWriteResult, message: string): TimelineError {
  if (!result.ok && !result.conflict) return new TimelineError(result.error.code, `${message}: ${result.error.message}`, { cause: result.error, operation: 'send', retryable: result.error.retryable });
  return new TimelineError('BACKEND', message, { operation: 'send', retryable: true });
}

function digest(parts: readonly string[]): Buffer {
  // JSON of an array of strings is injective: no two different arrays encode alike.
  return hash('sha256', JSON.stringify(parts), 'buffer');
}

function pendingPartition(shard: number): string {
  return `p:${shard.toString(16).padStart(2, '0')}`;
}

// The journal record's partition is the conversation ('c:' + id, a structured key: the prefix
// keeps it apart from the pending partitions); an id too long for TableStore's 1 KB key limit with
// the prefix is replaced by its digest ('h:'), and the record carries the ids to check on read.
function locate(conversationId: string, messageId: string): Location {
  const plain = `c:${conversationId}`;
  const partition = Buffer.byteLength(plain) <= MAX_PARTITION_BYTES ? plain : `h:${digest([conversationId]).toString('hex')}`;
  const hash = digest([conversationId, messageId]);
  return { partition, key: messageId, pendingPartition: pendingPartition(hash[0]! % PENDING_SHARDS), pendingKey: hash.toString('hex') };
}

// --- encoding: JSON with seqs as decimal strings (exact) -----------------------------------------

interface WireFanOut {
  readonly d: [string, string][];
  readonly f: [string, string, string, boolean][];
}

function encodeState(state: JournalState): Uint8Array {
  const wire: Record<string, unknown> = {
    c: state.conversationId,
    m: state.messageId,
    s: state.state,
    o: state.owner,
    l: state.leaseUntil,
    u: state.senderId,
    d: state.mode,
    t: state.targets,
    a: state.claimedAt,
  };
  if (state.seq !== undefined) wire.q = state.seq.toString();
  if (state.fanOut !== undefined) {
    const fan: WireFanOut = {
      d: state.fanOut.delivered.map((x) => [x.receiverId, x.seq.toString()]),
      f: state.fanOut.failed.map((x) => [x.receiverId, x.error.code, x.error.message, x.error.retryable]),
    };
    wire.f = fan;
  }
  return Buffer.from(JSON.stringify(wire));
}

function decodeState(value: Uint8Array, table: string): JournalState {
  let wire: Record<string, unknown>;
  try {
    wire = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new TimelineError('CODEC', `a send journal record of table ${table} is not valid JSON; was the table written by another program?`, { cause: error, table });
  }
  const { c, m, s, o, l, u, d, t, a, q, f } = wire;
  if (
    typeof c !== 'string' ||
    typeof m !== 'string' ||
    (s !== 'claimed' && s !== 'done') ||
    typeof o !== 'string' ||
    typeof l !== 'number' ||
    typeof u !== 'string' ||
    (d !== 'write' && d !== 'read') ||
    !Array.isArray(t) ||
    typeof a !== 'number'
  ) {
    throw new TimelineError('CODEC', `a send journal record of table ${table} has an unexpected shape; was the table written by another program?`, { table });
  }
  const messageId = m;
  const state: JournalState = { conversationId: c, messageId, state: s, owner: o, leaseUntil: l, senderId: u, mode: d, targets: t as string[], claimedAt: a };
  const seq = typeof q === 'string' ? BigInt(q) : undefined;
  const fan = f as WireFanOut | undefined;
  const fanOut: FanOutResult | undefined =
    fan === undefined
      ? undefined
      : {
          messageId,
          delivered: fan.d.map(([receiverId, s2]) => ({ receiverId, seq: BigInt(s2) })),
          failed: fan.f.map(([receiverId, code, message, retryable]) => ({
            receiverId,
            error: new TimelineError(code as TimelineError['code'], message, { operation: 'send', retryable }),
          })),
        };
  return { ...state, ...(seq === undefined ? {} : { seq }), ...(fanOut === undefined ? {} : { fanOut }) };
}

function encodeHint(state: JournalState): Uint8Array {
  return Buffer.from(JSON.stringify([state.conversationId, state.messageId, state.claimedAt]));
}

function decodeHint(value: Uint8Array, table: string): { conversationId: string; messageId: string; claimedAt: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch (error) {
    throw new TimelineError('CODEC', `a pending-send hint of table ${table} is not valid JSON`, { cause: error, table });
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string' || typeof parsed[2] !== 'number') {
    throw new TimelineError('CODEC', `a pending-send hint of table ${table} has an unexpected shape`, { table });
  }
  return { conversationId: parsed[0], messageId: parsed[1], claimedAt: parsed[2] };
}
