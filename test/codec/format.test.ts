import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32, crc8 } from '../../src/codec/checksum.js';
import * as M from '../../src/codec/messages.js';
import { PlainBufferError, type PlainRow } from '../../src/codec/plain-buffer-format.js';
import { decodeRow, decodeRows } from '../../src/codec/plain-buffer-reader.js';
import { encodeRow, encodeRows } from '../../src/codec/plain-buffer-writer.js';
import { decodeMessage, encodeMessage, ProtobufDecodeError, ProtoReader, ProtoWriter } from '../../src/codec/protobuf.js';
import { long, TableStore } from '../emulator/sdk.js';

// The SDK's own compiled protobufjs messages: an independent implementation to cross-check against.
const requireFromRoot = createRequire(join(process.cwd(), 'package.json'));
const sdkProto = (requireFromRoot('tablestore/lib/protocol/tablestore_compiled_proto.js') as { main: { proto: Record<string, any> } }).main.proto;

/** Decodes with the SDK's PlainBuffer reader. */
function sdkReadRow(buf: Buffer): { primaryKey: { name: string; value: unknown }[]; attributes: { columnName: string; columnValue: unknown; timestamp: unknown }[] } {
  const input = new TableStore.PlainBufferInputStream({ buffer: buf.buffer, offset: buf.byteOffset, limit: buf.byteOffset + buf.length });
  return new TableStore.PlainBufferCodedInputStream(input).readRow();
}
function sdkReadRows(buf: Buffer): ReturnType<typeof sdkReadRow>[] {
  const input = new TableStore.PlainBufferInputStream({ buffer: buf.buffer, offset: buf.byteOffset, limit: buf.byteOffset + buf.length });
  return new TableStore.PlainBufferCodedInputStream(input).readRows();
}

describe('checksums', () => {
  it('computes CRC-8 (poly 0x07) and CRC-32 (IEEE) check values', () => {
    expect(crc8(0, Buffer.from('123456789'))).toBe(0xf4);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

describe('protobuf codec', () => {
  it('round-trips varints, including negative and 64-bit values', () => {
    for (const v of [0n, 1n, 127n, 128n, 300n, 2n ** 53n + 1n, -1n, -(2n ** 63n), 2n ** 63n - 1n]) {
      const w = new ProtoWriter().varint64(v).finish();
      expect(BigInt.asIntN(64, new ProtoReader(w).varint64())).toBe(v);
    }
    expect(new ProtoWriter().uvarint(300).finish()).toEqual(Buffer.from([0xac, 0x02]));
  });

  it('decodes what protobufjs (the SDK) encodes', () => {
    const req = sdkProto.GetRangeRequest.create({
      tableName: 'tbl',
      direction: 1,
      columnsToGet: ['a', 'b'],
      maxVersions: 3,
      limit: 10,
      inclusiveStartPrimaryKey: Buffer.from([1, 2]),
      exclusiveEndPrimaryKey: Buffer.from([3]),
      timeRange: { startTime: 5, endTime: '9007199254740993' },
    });
    const bytes = Buffer.from(sdkProto.GetRangeRequest.encode(req).finish());
    const ours = decodeMessage(M.GetRangeRequest, bytes);
    expect(ours.table_name).toBe('tbl');
    expect(ours.direction).toBe(1);
    expect(ours.columns_to_get).toEqual(['a', 'b']);
    expect(ours.max_versions).toBe(3);
    expect(ours.limit).toBe(10);
    expect(ours.inclusive_start_primary_key).toEqual(Buffer.from([1, 2]));
    expect(ours.time_range?.end_time).toBe(9007199254740993n);
    const create = sdkProto.CreateTableRequest.create({
      tableMeta: { tableName: 't', primaryKey: [{ name: 'a', type: 2 }, { name: 'b', type: 1, option: 1 }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    const c = decodeMessage(M.CreateTableRequest, Buffer.from(sdkProto.CreateTableRequest.encode(create).finish()));
    expect(c.table_meta.primary_key).toEqual([{ name: 'a', type: 2 }, { name: 'b', type: 1, option: 1 }]);
    expect(c.table_options?.time_to_live).toBe(-1);
  });

  it('encodes what protobufjs (the SDK) decodes, required fields included', () => {
    const bytes = encodeMessage(M.DescribeTableResponse, {
      table_meta: { table_name: 't', primary_key: [{ name: 'k', type: 1 }] },
      reserved_throughput_details: { capacity_unit: { read: 0, write: 0 }, last_increase_time: 1735689600n },
      table_options: { time_to_live: -1, max_versions: 1, deviation_cell_version_in_sec: 86400n },
      table_status: 1,
    });
    const d = sdkProto.DescribeTableResponse.decode(bytes);
    expect(d.tableMeta.tableName).toBe('t');
    expect(d.tableOptions.timeToLive).toBe(-1);
    expect(String(d.reservedThroughputDetails.lastIncreaseTime)).toBe('1735689600');
    const batch = encodeMessage(M.BatchWriteRowResponse, {
      tables: [{ table_name: 't', rows: [{ is_ok: false, error: { code: 'OTSServerBusy', message: 'busy' } }, { is_ok: true, consumed: { capacity_unit: { read: 0, write: 1 } } }] }],
    });
    const b = sdkProto.BatchWriteRowResponse.decode(batch);
    expect(b.tables[0].rows[0].error.code).toBe('OTSServerBusy');
    expect(b.tables[0].rows[1].isOk).toBe(true);
  });

  it('skips unknown fields, reads packed repeated scalars and reports missing required fields', () => {
    const w = new ProtoWriter();
    w.key(99, 2).lengthDelimited(Buffer.from('ignored'));
    w.key(1, 2).lengthDelimited(Buffer.from('name'));
    expect(decodeMessage(M.TableNameRequest, w.finish()).table_name).toBe('name');
    expect(() => decodeMessage(M.TableNameRequest, Buffer.alloc(0))).toThrow(ProtobufDecodeError);
    expect(() => decodeMessage(M.TableNameRequest, Buffer.from([0x0a, 0x05, 0x61]))).toThrow(ProtobufDecodeError);
    const schema = { xs: { no: 1, type: 'int64', repeated: true } } as const;
    const packed = new ProtoWriter();
    const inner = new ProtoWriter().varint64(1n).varint64(-2n).finish();
    packed.key(1, 2).lengthDelimited(inner);
    expect(decodeMessage(schema, packed.finish()).xs).toEqual([1n, -2n]);
    expect(decodeMessage(schema, encodeMessage(schema, { xs: [5n, -6n] })).xs).toEqual([5n, -6n]);
  });

  it('decodes varints on both sides of the 7-byte (49-bit) number fast path exactly', () => {
    const schema = {
      i64: { no: 1, type: 'int64', repeated: true },
      u64: { no: 2, type: 'uint64', repeated: true },
      s64: { no: 3, type: 'sint64', repeated: true },
      i32: { no: 4, type: 'int32', repeated: true },
      u32: { no: 5, type: 'uint32', repeated: true },
      b: { no: 6, type: 'bool', repeated: true },
    } as const;
    const edges = [0n, 1n, 127n, 128n, (1n << 49n) - 1n, 1n << 49n, (1n << 56n) + 3n, (1n << 63n) - 1n];
    const i64 = [...edges, -1n, -(1n << 49n), -(1n << 63n)];
    const u64 = [...edges, (1n << 64n) - 1n];
    const s64 = [...edges, -1n, -(1n << 48n) - 1n, -(1n << 63n)];
    const i32 = [0, 1, 2 ** 31 - 1, -1, -(2 ** 31)];
    const u32 = [0, 1, 2 ** 31, 2 ** 32 - 1];
    const out = decodeMessage(schema, encodeMessage(schema, { i64, u64, s64, i32, u32, b: [true, false] }));
    expect(out).toEqual({ i64, u64, s64, i32, u32, b: [true, false] });
  });
});

describe('PlainBuffer codec', () => {
  it('decodes rows written by the SDK (put, update with every operation, delete, range bounds)', () => {
    const put = decodeRow(
      TableStore.PlainBufferBuilder.serializeForPutRow(
        [{ p: 'k' }, { n: long('-5') }, { a: TableStore.PK_AUTO_INCR }],
        [{ s: 'str' }, { i: long('9223372036854775807') }, { d: 1.5 }, { b: true }, { bin: Buffer.from([9]) }, { t: 'ts', timestamp: 1234 }],
      ),
    );
    expect(put.primaryKey).toEqual([
      { name: 'p', value: { type: 'STRING', value: 'k' } },
      { name: 'n', value: { type: 'INTEGER', value: -5n } },
      { name: 'a', value: { type: 'AUTO_INCREMENT' } },
    ]);
    expect(put.attributes.map((c) => c.value)).toEqual([
      { type: 'STRING', value: 'str' },
      { type: 'INTEGER', value: 9223372036854775807n },
      { type: 'DOUBLE', value: 1.5 },
      { type: 'BOOLEAN', value: true },
      { type: 'BINARY', value: Buffer.from([9]) },
      { type: 'STRING', value: 'ts' },
    ]);
    expect(put.attributes[5]?.timestamp).toBe(1234n);
    expect(put.deleteMarker).toBe(false);

    const upd = decodeRow(
      TableStore.PlainBufferBuilder.serializeForUpdateRow(
        [{ p: 'k' }],
        [{ PUT: [{ a: 'x', timestamp: 77 }, { b: long(1) }] }, { DELETE: [{ c: long(5) }] }, { DELETE_ALL: ['d'] }, { INCREMENT: [{ e: long(2) }] }],
      ),
    );
    expect(upd.attributes.map((c) => [c.name, c.op, c.timestamp])).toEqual([
      ['a', undefined, 77n],
      ['b', undefined, undefined],
      ['c', 3, 5n],
      ['d', 1, undefined],
      ['e', 4, undefined],
    ]);

    const del = decodeRow(TableStore.PlainBufferBuilder.serializeForDeleteRow([{ p: 'k' }]));
    expect(del.deleteMarker).toBe(true);
    const bound = decodeRow(TableStore.PlainBufferBuilder.serializePrimaryKey([{ p: TableStore.INF_MIN }, { q: TableStore.INF_MAX }]));
    expect(bound.primaryKey.map((c) => c.value?.type)).toEqual(['INF_MIN', 'INF_MAX']);
  });

  it('encodes rows the SDK reads back, single and in a GetRange page', () => {
    const row: PlainRow = {
      primaryKey: [
        { name: 'id', value: { type: 'STRING', value: 'ü' } },
        { name: 'seq', value: { type: 'INTEGER', value: 1735689600000123n } },
      ],
      attributes: [
        { name: 'b', value: { type: 'BOOLEAN', value: false }, timestamp: 1n },
        { name: 'd', value: { type: 'DOUBLE', value: -0.25 }, timestamp: 2n },
        { name: 'i', value: { type: 'INTEGER', value: -1n }, timestamp: 3n },
        { name: 'x', value: { type: 'BINARY', value: Buffer.from('ab') }, timestamp: 4n },
      ],
      deleteMarker: false,
    };
    const got = sdkReadRow(encodeRow(row));
    expect(got.primaryKey[0]).toEqual({ name: 'id', value: 'ü' });
    expect((got.primaryKey[1]!.value as { toString(r: number): string }).toString(10)).toBe('1735689600000123');
    expect(got.attributes.map((a) => a.columnValue)).toEqual([false, -0.25, expect.anything(), Buffer.from('ab')]);
    expect(String(got.attributes[2]!.columnValue)).toBe('-1');
    const many = sdkReadRows(encodeRows([row, row, row]));
    expect(many).toHaveLength(3);
    expect(decodeRows(encodeRows([row, row]))).toEqual([row, row]);
    expect(decodeRow(encodeRow(row))).toEqual(row);
    expect(encodeRows([])).toEqual(Buffer.alloc(0));
  });

  it('detects corruption: checksums, truncation, bad header and trailing garbage', () => {
    const good = TableStore.PlainBufferBuilder.serializeForPutRow([{ p: 'key' }], [{ a: 'value' }]);
    for (let i = 4; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] = bad[i]! ^ 0x01;
      expect(() => decodeRow(bad), `flip at ${i}`).toThrow(PlainBufferError);
    }
    for (let n = 0; n < good.length; n++) expect(() => decodeRow(good.subarray(0, n))).toThrow(PlainBufferError);
    expect(() => decodeRow(Buffer.concat([good, Buffer.from([1])]))).toThrow('trailing');
    expect(decodeRow(Buffer.concat([good, Buffer.from([0, 0])])).primaryKey).toHaveLength(1);
  });
});
