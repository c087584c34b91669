/**
 * Differential test of the wire transport's direct request bodies (src/backends/tablestore/direct/):
 * for seeded random rows and reads, the body encoded straight from the backend's rows must equal,
 * byte for byte, the body the official SDK's encoder produces from the params the SDK transport
 * builds for the same request (timeline-requests.ts), and the shared codec's body for them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppendRow } from '../../src/core/backend.js';
import type { SdkOperation } from '../../src/codec/index.js';
import { encodeBatchWriteBody, encodePutRowBody } from '../../src/backends/tablestore/direct/append-body.js';
import { encodeGetRangeBody, encodeGetRowBody } from '../../src/backends/tablestore/direct/read-bodies.js';
import { PAYLOAD_CHUNK_BYTES, resolveColumns, type ResolvedColumns } from '../../src/backends/tablestore/row-layout.js';
import type { TableStoreSdk } from '../../src/backends/tablestore/sdk-types.js';
import { appendParams, getRowParams, rangeParams, type AppendEntry, type RangeQuery, type SeqBound } from '../../src/backends/tablestore/timeline-requests.js';
import { TableStore } from '../emulator/sdk.js';
import { codec, sdkEncode } from './sdk-oracle.js';

const sdk = TableStore as unknown as TableStoreSdk;
const SEED = 17;
const COLUMNS: readonly ResolvedColumns[] = [resolveColumns(undefined), resolveColumns({ timelineId: 'tl', seq: 's', payload: 'body', messageId: 'mid', writeId: 'w_id' })];

/** Where two bodies first differ, for a readable failure on multi-megabyte bodies. */
function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `byte ${i}: ${a[i]} vs ${b[i]} (lengths ${a.length}, ${b.length})`;
  return a.length === b.length ? 'equal' : `lengths ${a.length} vs ${b.length}`;
}

/** The direct body equals the SDK encoder's and the shared codec's bodies of the SDK transport's params. */
function same(op: SdkOperation, direct: Buffer, params: Record<string, unknown>): void {
  const expected = sdkEncode(op, params);
  expect(firstDifference(direct, expected)).toBe('equal');
  expect(firstDifference(direct, codec.encodeRequest(op, params))).toBe('equal');
}

function sameAppend(columns: ResolvedColumns, table: string, entries: readonly AppendEntry[]): void {
  const params = appendParams(sdk, columns, table, entries);
  if (entries.length === 1) same('putRow', encodePutRowBody(table, columns, entries[0]!), params);
  else same('batchWriteRow', encodeBatchWriteBody(table, columns, entries), params);
}

// Ids: any code point (lone surrogates and control characters included), graphemes, and the usual ASCII.
const id = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  fc.stringMatching(/^user:[0-9]{1,7}$/),
);
const writeId = fc.stringMatching(/^[A-Za-z0-9_-]{12}\.[0-9a-z]{1,6}$/);
// Payloads: empty, one byte, a few hundred bytes; as Uint8Array views at an offset of a larger buffer too.
const payload = fc
  .tuple(fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 2, max: 600 })), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 255 }))
  .map(([length, offset, fill]) => {
    const backing = new Uint8Array(length + offset + 3).map((_, i) => (i * 31 + fill) & 0xff);
    return backing.subarray(offset, offset + length);
  });
const entry = fc.record({ timelineId: id, payload, messageId: fc.option(id, { nil: undefined }), writeId }).map(({ timelineId, payload: p, messageId, writeId: w }): AppendEntry => {
  const row: AppendRow = messageId === undefined ? { timelineId, payload: p } : { timelineId, payload: p, messageId };
  return { row, writeId: w };
});
const table = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,30}$/), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }));
const columns = fc.constantFrom(...COLUMNS);

describe('direct append bodies equal the SDK encoder output', () => {
  it('PutRow and BatchWriteRow of seeded random rows: 1 to 200 rows, unicode and binary-ish ids, with and without message id', () => {
    fc.assert(
      fc.property(columns, table, fc.array(entry, { minLength: 1, maxLength: 200 }), (c, t, entries) => sameAppend(c, t, entries)),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('a fan-out: one payload object shared by 1 and 200 rows, then repeated after other payloads', () => {
    fc.assert(
      fc.property(columns, fc.array(entry, { minLength: 1, maxLength: 200 }), payload, (c, entries, shared) => {
        const fanned = entries.map((e, i) => ({ ...e, row: { ...e.row, payload: i % 7 === 3 ? e.row.payload : shared } }));
        sameAppend(c, 'inbox', fanned.slice(0, 1));
        sameAppend(c, 'inbox', fanned);
      }),
      { seed: SEED + 1, numRuns: 30 },
    );
  });

  it('payloads at and over 1 MiB, in chunk columns, alone and in a batch; a ~4 MB 200-row body', () => {
    const bytes = (n: number, k: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * k) & 0xff);
    for (const c of COLUMNS) {
      for (const n of [PAYLOAD_CHUNK_BYTES - 1, PAYLOAD_CHUNK_BYTES, PAYLOAD_CHUNK_BYTES + 1, 2 * PAYLOAD_CHUNK_BYTES, 2 * PAYLOAD_CHUNK_BYTES + 5]) {
        const big = bytes(n, 7);
        sameAppend(c, 'big', [{ row: { timelineId: 'bob', payload: big, messageId: 'm-1' }, writeId: 'w.1' }]);
        sameAppend(c, 'big', [
          { row: { timelineId: 'a', payload: big }, writeId: 'w.2' },
          { row: { timelineId: 'b', payload: bytes(3, 5), messageId: 'm' }, writeId: 'w.3' },
          { row: { timelineId: 'c', payload: big, messageId: 'ünï' }, writeId: 'w.4' },
        ]);
      }
      const body = bytes(20_000, 3);
      const rows = Array.from({ length: 200 }, (_, i): AppendEntry => ({ row: { timelineId: `user:${i}`, payload: i % 2 === 0 ? body : bytes(20_000, i) }, writeId: `w.${i}` }));
      const encoded = encodeBatchWriteBody('inbox', c, rows);
      expect(encoded.length).toBeGreaterThan(4_000_000);
      sameAppend(c, 'inbox', rows);
    }
  });
});

const bound: fc.Arbitrary<SeqBound> = fc.oneof(fc.constant('min' as const), fc.constant('max' as const), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 53n + 5n }));

describe('direct read bodies equal the SDK encoder output', () => {
  it('GetRange pages of seeded random bounds, directions, limits and columns', () => {
    fc.assert(
      fc.property(
        columns,
        table,
        fc.record({ timelineId: id, forward: fc.boolean(), start: bound, end: bound, limit: fc.integer({ min: 1, max: 5000 }) }),
        fc.option(fc.constantFrom(['write_id'], ['w_id', 'payload'], []), { nil: undefined }),
        (c, t, q, columnsToGet) => {
          const query: RangeQuery = columnsToGet === undefined ? q : { ...q, columnsToGet };
          same('getRange', encodeGetRangeBody(t, c, query), rangeParams(sdk, c, t, query));
        },
      ),
      { seed: SEED + 2, numRuns: 300 },
    );
  });

  it('GetRow of seeded random ids and seqs across the 64-bit range', () => {
    fc.assert(
      fc.property(columns, table, id, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (c, t, timelineId, seq) => {
        same('getRow', encodeGetRowBody(t, c, timelineId, seq), getRowParams(sdk, c, t, timelineId, seq));
      }),
      { seed: SEED + 3, numRuns: 300 },
    );
  });
});
