// The wire transport's direct paths against the SDK-shaped path they replace, end to end: one
// backend on a WireClient (direct: bodies encoded from rows, answers decoded straight to rows),
// one on a WireClient hidden behind a plain forwarding object (the SDK-shaped params and results
// the wire transport used before). Both get the same crafted answers from a recording server,
// including answers the direct decoders leave to the SDK-shaped path (a seq stored as a STRING,
// a broken checksum, a failed row without an error, a truncated body); the results, or the errors,
// must be the same, and the reads must go out as the same bytes with the same signature.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendRowResult, ScanPage, StoredRow } from '../../src/core/backend.js';
import * as M from '../../src/codec/messages.js';
import type { PlainCell, PlainRow, PlainValue } from '../../src/codec/plain-buffer-format.js';
import { encodeRow, encodeRows } from '../../src/codec/plain-buffer-writer.js';
import { encodeMessage } from '../../src/codec/protobuf.js';
import { TableStoreBackend } from '../../src/backends/tablestore/index.js';
import type { TableStoreClientLike } from '../../src/backends/tablestore/sdk-types.js';
import { WireClient } from '../../src/backends/tablestore/wire/wire-client.js';
import { clientPair, startRecorder, type Answer, type ClientPair, type Recorded, type Recorder } from './support.js';

let recorder: Recorder;
let pairs: ClientPair[];
let direct: TableStoreBackend;
let shaped: TableStoreBackend;

/** A client that forwards to `client` without being a WireClient: the backend uses the SDK-shaped calls. */
function forwarding(client: WireClient): TableStoreClientLike {
  const methods = ['createTable', 'describeTable', 'updateTable', 'putRow', 'deleteRow', 'updateRow', 'batchWriteRow', 'getRow', 'getRange'] as const;
  return Object.fromEntries(methods.map((m) => [m, (params: any) => (client[m] as (p: any) => Promise<unknown>)(params)])) as unknown as TableStoreClientLike;
}

beforeAll(async () => {
  recorder = await startRecorder();
  pairs = [await clientPair({ endpoint: recorder.endpoint }), await clientPair({ endpoint: recorder.endpoint })];
  // No retries: each call is one exchange (or one per settling read), so both see the same answers.
  direct = new TableStoreBackend({ client: pairs[0]!.wireClient, retryStrategy: () => null });
  shaped = new TableStoreBackend({ client: forwarding(pairs[1]!.wireClient), retryStrategy: () => null });
});

afterAll(async () => {
  await direct.close();
  await shaped.close();
  for (const p of pairs) p.close();
  await recorder.close();
});

const consumed = { capacity_unit: { read: 1, write: 1 } };
const ok = (body: Buffer): Answer => ({ status: 200, headers: { 'x-ots-requestid': 'req-1' }, body });
const cell = (name: string, value: PlainValue): PlainCell => ({ name, value });
const row = (id: string, seq: PlainValue, attributes: PlainCell[] = [cell('payload', { type: 'BINARY', value: Buffer.from('hi') })]): PlainRow => ({
  primaryKey: [cell('timeline_id', { type: 'STRING', value: id }), cell('seq_id', seq)],
  attributes,
  deleteMarker: false,
});
const int = (value: bigint): PlainValue => ({ type: 'INTEGER', value });

/** What a caller sees of a result or an error, with the elapsed time in messages left out. */
function seen(outcome: { value?: unknown; error?: unknown }): unknown {
  const show = (v: unknown): unknown => {
    if (v instanceof Error) {
      const e = v as Error & { code?: unknown; backendCode?: unknown; retryable?: unknown; status?: unknown; requestId?: unknown };
      return { error: e.constructor.name, code: e.code, backendCode: e.backendCode, retryable: e.retryable, status: e.status, requestId: e.requestId, message: e.message.replace(/ in \d+ ms/, ' in … ms') };
    }
    if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
    if (Array.isArray(v)) return v.map(show);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, show(x)]));
    return v;
  };
  return outcome.error !== undefined ? show(outcome.error) : show(outcome.value);
}

async function both<T>(answer: (request: Recorded) => Answer, call: (backend: TableStoreBackend) => Promise<T>): Promise<{ direct: unknown; shaped: unknown; requests: Recorded[][] }> {
  recorder.answerWith(answer);
  const results: unknown[] = [];
  const requests: Recorded[][] = [];
  for (const backend of [direct, shaped]) {
    const from = recorder.requests.length;
    try {
      results.push(seen({ value: await call(backend) }));
    } catch (error) {
      results.push(seen({ error }));
    }
    requests.push(recorder.requests.slice(from));
  }
  return { direct: results[0], shaped: results[1], requests };
}

const page = (rows: PlainRow[], next?: PlainRow): Buffer => encodeMessage(M.GetRangeResponse, { consumed, rows: encodeRows(rows), next_start_primary_key: next === undefined ? undefined : encodeRow(next) });
const scan = (backend: TableStoreBackend): Promise<ScanPage> => backend.scan('t', { timelineId: 'bob', direction: 'forward', from: 5n, limit: 100 });

describe('the direct paths give what the SDK-shaped path gives', () => {
  it('a page with a continuation key; the GetRange requests are the same bytes and signature', async () => {
    const got = await both(() => ok(page([row('bob', int(5n)), row('eve', int(6n)), row('bob', int(2n ** 62n), [cell('message_id', { type: 'STRING', value: 'm' }), cell('payload', { type: 'BINARY', value: Buffer.from([0, 255]) })])], { primaryKey: row('bob', int(99n)).primaryKey, attributes: [], deleteMarker: false })), scan);
    expect(got.direct).toStrictEqual(got.shaped);
    expect((got.direct as { rows: unknown[]; next: bigint }).next).toBe(99n);
    const [a, b] = got.requests.map((list) => list.map((r) => ({ url: r.url, headers: r.rawHeaders, body: r.body.toString('hex') })));
    expect(a).toHaveLength(1);
    expect(a).toStrictEqual(b);
  });

  it('a GetRow answer; the requests are the same bytes and signature', async () => {
    const got = await both(() => ok(encodeMessage(M.GetRowResponse, { consumed, row: encodeRow(row('bob', int(7n))) })), (b) => b.get('t', 'bob', 7n));
    expect(got.direct).toStrictEqual(got.shaped);
    expect((got.direct as StoredRow).seq).toBe(7n);
    const [a, b] = got.requests.map((list) => list.map((r) => ({ url: r.url, headers: r.rawHeaders, body: r.body.toString('hex') })));
    expect(a).toStrictEqual(b);
  });

  it('a seq stored as a STRING: read through the SDK-shaped conversion on both', async () => {
    const rows = [row('bob', { type: 'STRING', value: '42' }), row('bob', int(43n))];
    const got = await both(() => ok(page(rows)), scan);
    expect(got.direct).toStrictEqual(got.shaped);
    expect((got.direct as { rows: { seq: bigint }[] }).rows.map((r) => r.seq)).toStrictEqual([42n, 43n]);
    const returned = await both(() => ok(encodeMessage(M.WriteRowResponse, { consumed, row: encodeRow({ ...row('bob', { type: 'STRING', value: '7' }), attributes: [] }) })), (b) =>
      b.append('t', [{ timelineId: 'bob', payload: new Uint8Array([1]) }]),
    );
    expect(returned.direct).toStrictEqual(returned.shaped);
    expect((returned.direct as AppendRowResult[])[0]).toMatchObject({ ok: true, seq: 7n });
  });

  it('a broken checksum and a truncated body: the same error', async () => {
    const broken = Buffer.from(page([row('bob', int(5n))]));
    broken[broken.length - 1]! ^= 0x55;
    const got = await both(() => ok(broken), scan);
    expect(got.direct).toStrictEqual(got.shaped);
    expect(got.direct).toMatchObject({ error: 'BackendError', backendCode: 'ClientError' });
    const truncated = await both(() => ok(page([row('bob', int(5n))]).subarray(0, 25)), scan);
    expect(truncated.direct).toStrictEqual(truncated.shaped);
    expect(truncated.direct).toMatchObject({ error: 'BackendError' });
  });

  it('BatchWriteRow: seqs, per-row errors, a missing result, and a failed row without an error (settled the same way)', async () => {
    const rows = [1, 2, 3].map((i) => ({ timelineId: `user:${i}`, payload: new Uint8Array([i]), messageId: `m-${i}` }));
    const returned = (seq: bigint): Buffer => encodeRow({ ...row('x', int(seq)), attributes: [] });
    const answers = encodeMessage(M.BatchWriteRowResponse, {
      tables: [{ table_name: 't', rows: [{ is_ok: true, consumed, row: returned(11n) }, { is_ok: false, error: { code: 'OTSConditionCheckFail', message: 'Condition check failed.' } }] }],
    });
    const got = await both(() => ok(answers), (b) => b.append('t', rows));
    expect(got.direct).toStrictEqual(got.shaped);
    expect((got.direct as { ok: boolean }[]).map((r) => r.ok)).toStrictEqual([true, false, false]);
    const noError = encodeMessage(M.BatchWriteRowResponse, { tables: [{ table_name: 't', rows: [{ is_ok: true, row: returned(1n) }, { is_ok: false }, { is_ok: true }] }] });
    // Undecodable on both: an ambiguous write, settled by reading each timeline's tail (an empty page: not applied).
    const settled = await both((r) => (r.url === '/GetRange' ? ok(page([])) : ok(noError)), (b) => b.append('t', rows));
    expect(settled.direct).toStrictEqual(settled.shaped);
    expect(settled.requests[0]!.map((r) => r.url)).toStrictEqual(settled.requests[1]!.map((r) => r.url));
    expect(settled.requests[0]!.some((r) => r.url === '/GetRange')).toBe(true);
  });
});
