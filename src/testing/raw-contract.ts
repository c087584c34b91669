import assert from 'node:assert/strict';
import type { AppendRow, TimelineBackend } from '../core/backend.js';
import { resolveCapabilities, type ResolvedCapabilities } from '../core/capabilities.js';
import { TimelineError } from '../core/errors.js';
import { utf8Length } from '../core/utf8.js';

/** What the raw-interface tests need from the suite that registers them. @internal */
export interface RawContractContext {
  /** The backend as created, without the core's wrapper. */
  backend(): Promise<TimelineBackend>;
  /** A table name no other test uses. */
  table(): string;
  /** A timeline id no other test uses. */
  id(prefix?: string): string;
  /** Registers one test. */
  test(name: string, fn: () => Promise<void>): void;
}

// Most rows one test sends in one call: enough to catch a backend that ignores its own limits,
// small enough to stay quick on a remote service.
const MAX_ROWS_TESTED = 1000;
const MAX_BYTES_TESTED = 8 * 1024 * 1024;

/**
 * The tests of the raw `TimelineBackend` interface, called without `TimelineStore` in between, so
 * that a backend is held to what it declares: a backend that cannot take `maxBatchRows` rows or
 * `maxBatchBytes` bytes in one call, or returns more rows than a scan asked for, fails here even
 * though the store (which splits and pages for it) would hide it.
 * @internal
 */
export function describeRawInterface(context: RawContractContext): void {
  const { test } = context;
  const created = async (ttlSeconds = -1): Promise<{ raw: TimelineBackend; caps: ResolvedCapabilities; table: string }> => {
    const raw = await context.backend();
    const table = context.table();
    const description = await raw.ensureTable({ table, ttlSeconds });
    assert.equal(description.created, true, 'ensureTable of a new table reports created: true');
    assert.equal(description.ttlSeconds, ttlSeconds);
    return { raw, caps: resolveCapabilities(raw), table };
  };
  const row = (timelineId: string, bytes: number, fill: number, messageId?: string): AppendRow => {
    const payload = new Uint8Array(bytes).fill(fill);
    return messageId === undefined ? { timelineId, payload } : { timelineId, payload, messageId };
  };

  test('raw: ensureTable reports an existing table, and changes its TTL only with onTtlMismatch: update', async () => {
    const ttl = resolveCapabilities(await context.backend()).minTtlSeconds;
    const { raw, table } = await created(ttl);
    const again = await raw.ensureTable({ table, ttlSeconds: ttl });
    assert.equal(again.created, false);
    const isIncompatible = (e: unknown): boolean => e instanceof TimelineError && e.code === 'TABLE_INCOMPATIBLE';
    await assert.rejects(raw.ensureTable({ table, ttlSeconds: -1 }, { onTtlMismatch: 'error' }), isIncompatible);
    assert.equal((await raw.ensureTable({ table, ttlSeconds: ttl })).ttlUpdated, false, 'the rejected call left the TTL alone');
    const updated = await raw.ensureTable({ table, ttlSeconds: -1 }, { onTtlMismatch: 'update' });
    assert.equal(updated.ttlUpdated, true);
    assert.equal(updated.ttlSeconds, -1);
  });

  test('raw: one append call takes maxBatchRows rows, one result per row in input order', async () => {
    const { raw, caps, table } = await created();
    const count = Math.min(caps.maxBatchRows, MAX_ROWS_TESTED);
    const timelines = [context.id('a'), context.id('b')];
    const rows = Array.from({ length: count }, (_, i) => row(timelines[i % 2]!, 8, i % 256, `m${i}`));
    const results = await raw.append(table, rows);
    assert.equal(results.length, count, `append of ${count} rows (maxBatchRows ${caps.maxBatchRows}) must answer ${count} results`);
    const last = new Map<string, bigint>();
    results.forEach((result, i) => {
      assert.ok(result.ok, `row ${i} of ${count} failed: ${result.ok ? '' : result.error.message}`);
      const timelineId = rows[i]!.timelineId;
      const previous = last.get(timelineId);
      if (caps.orderedBatches && previous !== undefined) assert.ok(result.seq > previous, 'orderedBatches: seqs follow input order');
      last.set(timelineId, result.seq);
    });
    const read = await raw.get(table, timelines[0]!, (results[0] as { seq: bigint }).seq);
    assert.deepEqual(read && [...read.payload], [...rows[0]!.payload]);
    assert.equal(read?.messageId, 'm0');
  });

  test('raw: one append call takes maxBatchBytes bytes', async () => {
    const { raw, caps, table } = await created();
    const budget = Math.min(caps.maxBatchBytes, MAX_BYTES_TESTED);
    const timelineId = context.id();
    const fixed = caps.rowOverheadBytes + utf8Length(timelineId);
    const count = Math.max(1, Math.min(caps.maxBatchRows, Math.ceil(budget / caps.maxMessageBytes) + 1, MAX_ROWS_TESTED));
    const size = Math.min(caps.maxMessageBytes, Math.floor(budget / count) - fixed);
    if (size <= 0) return;
    const rows = Array.from({ length: count }, (_, i) => row(timelineId, size, i));
    const results = await raw.append(table, rows);
    assert.equal(results.length, count);
    assert.ok(results.every((r) => r.ok), `${count} rows of ${size} bytes (within maxBatchBytes ${caps.maxBatchBytes}) must all be written`);
  });

  test('raw: payloads are copied in and out', async () => {
    const { raw, table } = await created();
    const timelineId = context.id();
    const written = row(timelineId, 4, 1);
    const [result] = await raw.append(table, [written]);
    assert.ok(result?.ok);
    written.payload.fill(9);
    const first = await raw.get(table, timelineId, result.seq);
    assert.deepEqual(first && [...first.payload], [1, 1, 1, 1], 'the caller changing its buffer must not change the stored entry');
    first!.payload.fill(7);
    const second = await raw.get(table, timelineId, result.seq);
    assert.deepEqual(second && [...second.payload], [1, 1, 1, 1], 'a reader changing its copy must not change the stored entry');
  });

  test('raw: scan returns at most `limit` rows of the timeline, in order, and `next` continues', async () => {
    const { raw, table } = await created();
    const timelineId = context.id();
    await raw.append(table, [row(context.id('other'), 1, 0)]);
    const seqs: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      const [result] = await raw.append(table, [row(timelineId, 1, i)]);
      assert.ok(result?.ok);
      seqs.push(result.seq);
    }
    for (const direction of ['forward', 'backward'] as const) {
      const expected = direction === 'forward' ? seqs : [...seqs].reverse();
      for (const limit of [1, 2, 3]) {
        const seen: bigint[] = [];
        let from: bigint | undefined;
        for (let page = 0; page < 20; page++) {
          const result = await raw.scan(table, { timelineId, direction, limit, ...(from === undefined ? {} : { from }) });
          assert.ok(result.rows.length <= limit, `a ${direction} scan with limit ${limit} returned ${result.rows.length} rows`);
          for (const r of result.rows) {
            assert.equal(r.timelineId, timelineId, 'scan must stay within its timeline');
            seen.push(r.seq);
          }
          if (result.next === undefined) break;
          from = result.next;
        }
        assert.deepEqual(seen, expected, `${direction} scan with limit ${limit}`);
      }
    }
  });
}
