/**
 * Differential test of the wire transport's direct answer decoders (src/backends/tablestore/direct/):
 * for seeded random answers built with the emulator's encoders, the rows, seqs, continuation keys
 * and per-row outcomes decoded straight from the bytes must equal what the SDK transport gets
 * from the official SDK's decoder and its conversions (sdk-answers.ts, `parseRow`): rows of the
 * timeline and of others, rows without payload, chunked and odd-typed payloads, absent rows,
 * per-row errors, keys returned or not. Answers the direct decoders leave to the SDK-shaped path
 * must make them throw (test/wire/direct-fallback.test.ts checks what the backend then returns).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredRow } from '../../src/core/backend.js';
import * as M from '../../src/codec/messages.js';
import type { PlainCell, PlainRow, PlainValue } from '../../src/codec/plain-buffer-format.js';
import { encodeRow, encodeRows } from '../../src/codec/plain-buffer-writer.js';
import { encodeMessage } from '../../src/codec/protobuf.js';
import { decodeGetRowAnswer, decodePageAnswer, decodeWritesPageAnswer } from '../../src/backends/tablestore/direct/read-answers.js';
import { decodeBatchWriteAnswer, decodePutRowAnswer } from '../../src/backends/tablestore/direct/write-answers.js';
import { UnusualAnswer } from '../../src/backends/tablestore/direct/unusual-answer.js';
import { parseRow, resolveColumns, type ParsedRow, type ResolvedColumns } from '../../src/backends/tablestore/row-layout.js';
import { batchOutcomeOfSdk, pageOfSdk, putOutcomeOfSdk, writesPageOfSdk, type SdkRangeResult } from '../../src/backends/tablestore/sdk-answers.js';
import type { SdkBatchWriteRowResult, SdkRow } from '../../src/backends/tablestore/sdk-types.js';
import { sdkDecode } from './sdk-oracle.js';

const SEED = 17;
const COLUMNS: readonly ResolvedColumns[] = [resolveColumns(undefined), resolveColumns({ timelineId: 'tl', seq: 's', payload: 'body', messageId: 'mid', writeId: 'w_id' })];
const ASKED = 'user:ünï 😀';

/** A row as a comparable value: the payload's class and bytes, which keys it has. */
function rowView(row: StoredRow | undefined): unknown {
  if (row === undefined) return undefined;
  return { keys: Object.keys(row), timelineId: row.timelineId, seq: row.seq, payload: [row.payload.constructor.name, Buffer.from(row.payload).toString('hex')], messageId: row.messageId };
}
const parsedView = (p: ParsedRow): unknown => ({ keys: Object.keys(p), row: rowView(p.row), writeId: p.writeId, writtenAtMs: p.writtenAtMs });

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const timestamp = fc.option(fc.bigInt({ min: 0n, max: 2n ** 52n }), { nil: undefined });
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const text = fc.string({ unit: 'binary', maxLength: 20 });
/** Any attribute value the service stores (or none: a cell without a value). */
const anyValue: fc.Arbitrary<PlainValue | undefined> = fc.oneof(
  { weight: 4, arbitrary: bytes.map((value): PlainValue => ({ type: 'BINARY', value })) },
  text.map((value): PlainValue => ({ type: 'STRING', value })),
  int64.map((value): PlainValue => ({ type: 'INTEGER', value })),
  fc.double().map((value): PlainValue => ({ type: 'DOUBLE', value })),
  fc.boolean().map((value): PlainValue => ({ type: 'BOOLEAN', value })),
  fc.constant(undefined),
);
const stringValue = text.map((value): PlainValue => ({ type: 'STRING', value }));

/** Seeded random rows of a timeline table: the asked timeline's, others', odd ones. */
function rowOf(c: ResolvedColumns): fc.Arbitrary<PlainRow> {
  const owner = fc.oneof(
    { weight: 6, arbitrary: fc.constant<PlainValue | null>({ type: 'STRING', value: ASKED }) },
    text.map((value): PlainValue | null => ({ type: 'STRING', value })),
    bytes.map((value): PlainValue | null => ({ type: 'BINARY', value })),
    fc.constant<PlainValue | null>(null),
  );
  const seq = fc.oneof({ weight: 8, arbitrary: int64.map((value): PlainValue | null => ({ type: 'INTEGER', value })) }, fc.constant<PlainValue | null>(null));
  const cell = (name: string, value: fc.Arbitrary<PlainValue | undefined>): fc.Arbitrary<PlainCell> => fc.record({ value, timestamp }).map(({ value: v, timestamp: ts }) => ({ name, value: v, timestamp: ts }));
  const attributes = fc
    .tuple(
      fc.option(cell(c.payload, fc.oneof({ weight: 6, arbitrary: bytes.map((value): PlainValue => ({ type: 'BINARY', value })) }, anyValue)), { freq: 4, nil: undefined }),
      fc.array(fc.integer({ min: 1, max: 3 }).chain((i) => cell(`${c.payload}_${i}`, anyValue)), { maxLength: 3 }),
      fc.option(cell(c.messageId, fc.oneof({ weight: 4, arbitrary: stringValue }, anyValue)), { nil: undefined }),
      fc.option(cell(c.writeId, fc.oneof({ weight: 4, arbitrary: stringValue }, anyValue)), { nil: undefined }),
      fc.array(fc.constantFrom('n', `${c.payload}_01`, `${c.payload}x`, `${c.payload}_`, 'zz').chain((name) => cell(name, anyValue)), { maxLength: 2 }),
    )
    .chain(([payload, chunks, messageId, writeId, extra]) => fc.shuffledSubarray([...(payload ? [payload] : []), ...chunks, ...(messageId ? [messageId] : []), ...(writeId ? [writeId] : []), ...extra], { minLength: 0 }).map((cells) => ({ all: [...(payload ? [payload] : []), ...chunks, ...(messageId ? [messageId] : []), ...(writeId ? [writeId] : []), ...extra], cells })))
    .chain(({ all, cells }) => fc.constantFrom(all, cells));
  return fc.record({ owner, seq, attributes, swap: fc.boolean() }).map(({ owner: o, seq: s, attributes: a, swap }) => {
    const key: PlainCell[] = [];
    if (o !== null) key.push({ name: c.timelineId, value: o });
    if (s !== null) key.push({ name: c.seq, value: s });
    if (key.length === 0) key.push({ name: 'other_key', value: { type: 'STRING', value: 'k' } });
    return { primaryKey: swap ? key.reverse() : key, attributes: a, deleteMarker: false };
  });
}

/** A continuation key: none, of the asked timeline, of another, without the timeline cell, without the seq. */
function nextKeyOf(c: ResolvedColumns): fc.Arbitrary<Buffer | undefined> {
  return fc
    .tuple(fc.constantFrom('none', 'asked', 'other', 'seq only', 'owner only', 'binary owner'), int64)
    .map(([kind, s]) => {
      const seq: PlainCell = { name: c.seq, value: { type: 'INTEGER', value: s } };
      const owner = (value: PlainValue): PlainCell => ({ name: c.timelineId, value });
      const keys: Record<string, PlainCell[]> = {
        asked: [owner({ type: 'STRING', value: ASKED }), seq],
        other: [owner({ type: 'STRING', value: `${ASKED}!` }), seq],
        'seq only': [seq],
        'owner only': [owner({ type: 'STRING', value: ASKED })],
        'binary owner': [owner({ type: 'BINARY', value: Buffer.from(ASKED) }), seq],
      };
      return kind === 'none' ? undefined : encodeRow({ primaryKey: keys[kind]!, attributes: [], deleteMarker: false });
    });
}

const consumed = { capacity_unit: { read: 1, write: 0 } };

describe('direct read answers equal the SDK decoder output as the SDK transport converts it', () => {
  it('GetRange pages of seeded random rows, with and without continuation keys, for scans and for settling', () => {
    for (const c of COLUMNS) {
      fc.assert(
        fc.property(fc.array(rowOf(c), { maxLength: 60 }), nextKeyOf(c), (rows, next) => {
          const body = encodeMessage(M.GetRangeResponse, { consumed, rows: encodeRows(rows), next_start_primary_key: next });
          const sdk = sdkDecode('getRange', body) as SdkRangeResult;
          const page = decodePageAnswer(body, c, ASKED);
          const expected = pageOfSdk(sdk, c, ASKED);
          expect(page.rows.map(rowView)).toStrictEqual(expected.rows.map(rowView));
          expect(page.next).toBe(expected.next);
          const writes = decodeWritesPageAnswer(body, c, ASKED);
          const expectedWrites = writesPageOfSdk(sdk, c, ASKED);
          expect(writes.rows.map(parsedView)).toStrictEqual(expectedWrites.rows.map(parsedView));
          expect([writes.scanned, writes.next]).toStrictEqual([expectedWrites.scanned, expectedWrites.next]);
        }),
        { seed: SEED, numRuns: 150 },
      );
    }
  });

  it('GetRange: an empty page, and a page of 5000 entries of the asked timeline', () => {
    const c = COLUMNS[0]!;
    const empty = encodeMessage(M.GetRangeResponse, { consumed, rows: Buffer.alloc(0) });
    expect(decodePageAnswer(empty, c, ASKED)).toStrictEqual({ rows: [], next: undefined });
    const rows: PlainRow[] = Array.from({ length: 5000 }, (_, i) => ({
      primaryKey: [
        { name: 'timeline_id', value: { type: 'STRING', value: ASKED } },
        { name: 'seq_id', value: { type: 'INTEGER', value: 1_767_225_600_000_000n + BigInt(i) } },
      ],
      attributes: [
        { name: 'message_id', value: { type: 'STRING', value: `m-${i}` }, timestamp: 1_767_225_600_000n },
        { name: 'payload', value: { type: 'BINARY', value: Buffer.from(`{"text":"hello ${i}"}`) }, timestamp: 1_767_225_600_000n },
        { name: 'write_id', value: { type: 'STRING', value: `w.${i}` }, timestamp: 1_767_225_600_000n },
      ],
      deleteMarker: false,
    }));
    const next = encodeRow({ primaryKey: [rows[0]!.primaryKey[0]!, { name: 'seq_id', value: { type: 'INTEGER', value: 2n ** 62n } }], attributes: [], deleteMarker: false });
    const body = encodeMessage(M.GetRangeResponse, { consumed, rows: encodeRows(rows), next_start_primary_key: next });
    const page = decodePageAnswer(body, c, ASKED);
    expect(page.rows).toHaveLength(5000);
    expect(page.next).toBe(2n ** 62n);
    expect(page.rows.map(rowView)).toStrictEqual(pageOfSdk(sdkDecode('getRange', body) as SdkRangeResult, c, ASKED).rows.map(rowView));
    // Payloads are copies: the answer's buffer can be reused without changing a row.
    const payloadBefore = Buffer.from(page.rows[1]!.payload).toString('hex');
    body.fill(0);
    expect(Buffer.from(page.rows[1]!.payload).toString('hex')).toBe(payloadBefore);
  });

  it('GetRow: a row, an absent row, a row without payload, another timeline\'s row', () => {
    for (const c of COLUMNS) {
      fc.assert(
        fc.property(fc.option(rowOf(c), { nil: undefined }), (row) => {
          const body = encodeMessage(M.GetRowResponse, { consumed, row: row === undefined ? Buffer.alloc(0) : encodeRow(row) });
          const expected = parseRow((sdkDecode('getRow', body) as { row: SdkRow }).row, c)?.row;
          expect(rowView(decodeGetRowAnswer(body, c, ASKED))).toStrictEqual(rowView(expected));
        }),
        { seed: SEED + 1, numRuns: 200 },
      );
    }
  });
});

describe('direct write answers equal the SDK decoder output as the SDK transport converts it', () => {
  const returnedKey = (c: ResolvedColumns): fc.Arbitrary<Buffer | undefined> =>
    fc.oneof(
      { weight: 6, arbitrary: fc.tuple(text, int64).map(([id, s]) => encodeRow({ primaryKey: [{ name: c.timelineId, value: { type: 'STRING', value: id } }, { name: c.seq, value: { type: 'INTEGER', value: s } }], attributes: [], deleteMarker: false })) },
      fc.constant(encodeRow({ primaryKey: [{ name: c.timelineId, value: { type: 'STRING', value: 'no seq' } }], attributes: [], deleteMarker: false })),
      fc.constant(Buffer.alloc(0)),
      fc.constant(undefined),
    );
  const rowResult = (c: ResolvedColumns) =>
    fc.oneof(
      { weight: 5, arbitrary: fc.record({ row: returnedKey(c), consumed: fc.boolean() }).map(({ row, consumed: withConsumed }) => ({ is_ok: true, row, consumed: withConsumed ? { capacity_unit: { write: 1 } } : undefined })) },
      fc
        .tuple(fc.constantFrom('OTSConditionCheckFail', 'OTSServerBusy', 'OTSQuotaExhausted', 'OTSParameterInvalid', 'OTSTimeout'), fc.option(fc.constantFrom('Condition check failed.', 'Too frequent table operations.', 'ünïcødé ✓', ''), { nil: undefined }))
        .map(([code, message]) => ({ is_ok: false, error: message === undefined ? { code } : { code, message } })),
    );

  it('BatchWriteRow: per-row seqs, missing keys and per-row errors, over one to three tables', () => {
    for (const c of COLUMNS) {
      fc.assert(
        fc.property(fc.array(fc.record({ table_name: fc.constantFrom('inbox', 'other'), rows: fc.array(rowResult(c), { maxLength: 200 }) }), { minLength: 1, maxLength: 3 }), (tables) => {
          const body = encodeMessage(M.BatchWriteRowResponse, { tables });
          const expected = ((sdkDecode('batchWriteRow', body) as { tables: SdkBatchWriteRowResult[] }).tables ?? []).map((r) => batchOutcomeOfSdk(r, c));
          expect(decodeBatchWriteAnswer(body, c)).toStrictEqual(expected);
        }),
        { seed: SEED + 2, numRuns: 60 },
      );
    }
  });

  it('PutRow: the returned seq, or none', () => {
    for (const c of COLUMNS) {
      fc.assert(
        fc.property(returnedKey(c), (row) => {
          const body = encodeMessage(M.WriteRowResponse, { consumed: { capacity_unit: { write: 1 } }, row });
          expect(decodePutRowAnswer(body, c)).toStrictEqual(putOutcomeOfSdk(sdkDecode('putRow', body) as { row: SdkRow }, c));
        }),
        { seed: SEED + 3, numRuns: 100 },
      );
    }
  });
});

describe('answers the direct decoders leave to the SDK-shaped path', () => {
  const c = COLUMNS[0]!;
  const key = (id: PlainValue, seq: PlainValue): PlainCell[] => [
    { name: 'timeline_id', value: id },
    { name: 'seq_id', value: seq },
  ];
  const row = (primaryKey: PlainCell[]): Buffer => encodeRow({ primaryKey, attributes: [{ name: 'payload', value: { type: 'BINARY', value: Buffer.from('x') } }], deleteMarker: false });
  const page = (rows: Buffer): Buffer => encodeMessage(M.GetRangeResponse, { consumed, rows });

  it('throw an UnusualAnswer (or a decode error) instead of guessing', () => {
    const seqAsString = row(key({ type: 'STRING', value: ASKED }, { type: 'STRING', value: '42' }));
    expect(() => decodePageAnswer(page(seqAsString), c, ASKED)).toThrow(UnusualAnswer);
    const corrupt = Buffer.from(row(key({ type: 'STRING', value: ASKED }, { type: 'INTEGER', value: 1n })));
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(() => decodePageAnswer(page(corrupt), c, ASKED)).toThrow(/checksum/);
    // A row without its key section (no TAG_ROW_PK): the SDK reads it as a row with an empty key.
    const keyless = encodeRow({ primaryKey: [], attributes: [{ name: 'payload', value: { type: 'BINARY', value: Buffer.from('x') } }], deleteMarker: false });
    expect(() => decodePageAnswer(page(Buffer.concat([keyless.subarray(0, 4), keyless.subarray(5)])), c, ASKED)).toThrow(UnusualAnswer);
    expect(() => decodePageAnswer(page(row(key({ type: 'STRING', value: ASKED }, { type: 'INF_MIN' }))), c, ASKED)).toThrow(UnusualAnswer);
    expect(() => decodeBatchWriteAnswer(encodeMessage(M.BatchWriteRowResponse, { tables: [{ table_name: 't', rows: [{ is_ok: false }] }] }), c)).toThrow(UnusualAnswer);
    expect(() => decodePutRowAnswer(encodeMessage(M.WriteRowResponse, { consumed, row: row(key({ type: 'STRING', value: 'a' }, { type: 'STRING', value: '7' })) }), c)).toThrow(UnusualAnswer);
    expect(() => decodePageAnswer(page(row(key({ type: 'STRING', value: ASKED }, { type: 'INTEGER', value: 1n }))).subarray(0, 20), c, ASKED)).toThrow();
  });
});
