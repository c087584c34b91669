// Differential: answers recorded from the emulator (successes, per-row errors, continuation keys,
// 403 signature errors, throttling, 5xx) and network failures are replayed to the official SDK and
// to the wire path; both must resolve with the same result or reject with the same error (same
// code, message, headers, name, retryable flag), which the backend then decodes and classifies
// the same way.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { decodeSdkError } from '../../src/backends/tablestore/errors.js';
import type { TableStoreClientLike, TableStoreSdk } from '../../src/backends/tablestore/sdk-types.js';
import { clientPair, settle, startRecorder, view, type Answer, type ClientPair, type Method, type Recorded, type Recorder } from './support.js';

let emu: Emulator;
let recorder: Recorder;
let pair: ClientPair;
let direct: TableStoreClientLike;
let T: Record<string, any>;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, seed: 17 });
  recorder = await startRecorder();
  const c = emu.connection();
  pair = await clientPair({ endpoint: recorder.endpoint, instanceName: c.instanceName, accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, timeoutMs: 300 });
  T = pair.sdk as unknown as Record<string, any>;
  direct = new (pair.sdk as TableStoreSdk).Client({ ...emu.clientConfig(), accessKeySecret: c.accessKeySecret, maxRetries: 0 });
  await direct.createTable({
    tableMeta: { tableName: 'tl', primaryKey: [{ name: 'timeline_id', type: 'STRING' }, { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1 },
  });
  for (let i = 0; i < 5; i++) {
    await direct.putRow({ tableName: 'tl', condition: new T.Condition(T.RowExistenceExpectation.IGNORE, null), primaryKey: [{ timeline_id: 'alice' }, { seq_id: T.PK_AUTO_INCR }], attributeColumns: [{ payload: Buffer.from([i, 0xff]) }, { message_id: `m${i}` }, { n: T.Long.fromString(String(-i)) }, { d: i / 3 }, { ok: i % 2 === 0 }] });
  }
});

afterAll(async () => {
  pair.close();
  await recorder.close();
  await emu.close();
});

// Hop-by-hop headers the recorder sets itself on a replay.
const HOP = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date']);

/** Forwards a recorded request to the emulator and returns its answer. */
function forward(request: Recorded): Promise<Answer> {
  const { port } = new URL(emu.endpoint) as unknown as AddressInfo & URL;
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) headers[request.rawHeaders[i]!] = request.rawHeaders[i + 1]!;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: Number(port), method: request.method, path: request.url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const kept = Object.fromEntries(Object.entries(res.headers).filter(([k, v]) => !HOP.has(k) && typeof v === 'string')) as Record<string, string>;
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Records the emulator's answer to the SDK's request, then replays it to both clients. */
async function replayed(method: Method, params: () => Record<string, unknown>, sender: TableStoreClientLike = pair.sdkClient): Promise<{ answer: Answer; sdk: { value?: unknown; error?: unknown }; wire: { value?: unknown; error?: unknown } }> {
  let answer: Answer | undefined;
  recorder.answerWith(async (request) => (answer = await forward(request)));
  await settle(sender, method, params());
  expect(answer).toBeDefined();
  recorder.answerWith(() => answer!);
  return { answer: answer!, sdk: await settle(pair.sdkClient, method, params()), wire: await settle(pair.wireClient, method, params()) };
}

/**
 * What must agree between two rejections. An error raised locally by the codec (a body it cannot
 * decode) only has to be classified alike: the backend reads no more of it than that.
 */
function errorShape(error: unknown): Record<string, unknown> {
  const e = error as Record<string, unknown> & Error;
  if (e.code === undefined) return { isError: e instanceof Error, code: e.code, decoded: { ...decodeSdkError(e), message: '(local)' } };
  return {
    isError: e instanceof Error,
    keys: Object.keys(e).filter((k) => k !== 'time').sort(),
    code: e.code,
    message: e.message,
    name: e.name,
    headers: e.headers,
    retryable: e.retryable,
    hostname: e.hostname,
    decoded: decodeSdkError(e),
  };
}

function expectSame(result: { sdk: { value?: unknown; error?: unknown }; wire: { value?: unknown; error?: unknown } }): void {
  if (result.sdk.error !== undefined) {
    expect(result.wire.error, 'the SDK rejected, the wire path did not').toBeDefined();
    expect(errorShape(result.wire.error)).toStrictEqual(errorShape(result.sdk.error));
  } else {
    expect(result.wire.error, 'the SDK resolved, the wire path rejected').toBeUndefined();
    const int64 = (T.Long.fromNumber(0) as object).constructor;
    expect(view(result.wire.value, int64)).toStrictEqual(view(result.sdk.value, int64));
  }
}

const cond = (name: keyof typeof T.RowExistenceExpectation = 'IGNORE'): unknown => new T.Condition(T.RowExistenceExpectation[name], null);
const pk = (id: string, seq: unknown): Record<string, unknown>[] => [{ timeline_id: id }, { seq_id: seq }];
const status = (a: Answer): number => (typeof a === 'string' ? 0 : a.status);

describe('recorded emulator answers decode identically on both paths', () => {
  it('DescribeTable', async () => {
    const r = await replayed('describeTable', () => ({ tableName: 'tl' }));
    expect(status(r.answer)).toBe(200);
    expectSame(r);
  });

  it('UpdateTable', async () => {
    const r = await replayed('updateTable', () => ({ tableName: 'tl', tableOptions: { timeToLive: -1, maxVersions: 1 } }));
    expect(status(r.answer)).toBe(200);
    expectSame(r);
  });

  it('PutRow returning the auto-increment key', async () => {
    const r = await replayed('putRow', () => ({ tableName: 'tl', condition: cond(), primaryKey: pk('bob', T.PK_AUTO_INCR), attributeColumns: [{ payload: Buffer.from('x') }], returnContent: { returnType: T.ReturnType.Primarykey } }));
    expect(status(r.answer)).toBe(200);
    expect((r.sdk.value as { row: { primaryKey: unknown[] } }).row.primaryKey).toHaveLength(2);
    expectSame(r);
  });

  it('GetRow of a present and of a missing row', async () => {
    const first = await direct.getRange({ tableName: 'tl', direction: T.Direction.FORWARD, inclusiveStartPrimaryKey: pk('alice', T.INF_MIN), exclusiveEndPrimaryKey: pk('alice', T.INF_MAX), limit: 1, maxVersions: 1 });
    const seq = (first.rows![0]!.primaryKey![1]! as { value: unknown }).value;
    const found = await replayed('getRow', () => ({ tableName: 'tl', primaryKey: pk('alice', seq), maxVersions: 1 }));
    expect((found.sdk.value as { row: { attributes: unknown[] } }).row.attributes).toHaveLength(5);
    expectSame(found);
    const missing = await replayed('getRow', () => ({ tableName: 'tl', primaryKey: pk('nobody', T.Long.fromString('1')), maxVersions: 1 }));
    expect(status(missing.answer)).toBe(200);
    expectSame(missing);
  });

  it('GetRange with a continuation key, both directions', async () => {
    const forward = await replayed('getRange', () => ({ tableName: 'tl', direction: T.Direction.FORWARD, inclusiveStartPrimaryKey: pk('alice', T.INF_MIN), exclusiveEndPrimaryKey: pk('alice', T.INF_MAX), limit: 2, maxVersions: 1 }));
    expect((forward.sdk.value as { rows: unknown[]; nextStartPrimaryKey: unknown }).rows).toHaveLength(2);
    expect((forward.sdk.value as { nextStartPrimaryKey: unknown }).nextStartPrimaryKey).toBeTruthy();
    expectSame(forward);
    const backward = await replayed('getRange', () => ({ tableName: 'tl', direction: T.Direction.BACKWARD, inclusiveStartPrimaryKey: pk('alice', T.INF_MAX), exclusiveEndPrimaryKey: pk('alice', T.INF_MIN), limit: 10, maxVersions: 1 }));
    expect((backward.sdk.value as { rows: unknown[] }).rows).toHaveLength(5);
    expectSame(backward);
  });

  it('BatchWriteRow with per-row errors (injected and condition failures)', async () => {
    emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSServerBusy' }, rows: [1], times: 1 });
    const r = await replayed('batchWriteRow', () => ({
      tables: [
        {
          tableName: 'tl',
          rows: [
            { type: 'PUT', condition: cond(), primaryKey: pk('carol', T.PK_AUTO_INCR), attributeColumns: [{ payload: Buffer.from('a') }], returnContent: { returnType: T.ReturnType.Primarykey } },
            { type: 'PUT', condition: cond(), primaryKey: pk('dave', T.PK_AUTO_INCR), attributeColumns: [{ payload: Buffer.from('b') }], returnContent: { returnType: T.ReturnType.Primarykey } },
            { type: 'UPDATE', condition: cond('EXPECT_EXIST'), primaryKey: pk('nobody', T.Long.fromString('1')), attributeColumns: [{ PUT: [{ payload: Buffer.from('c') }] }] },
          ],
        },
      ],
    }));
    const tables = (r.sdk.value as { tables: { isOk: boolean; errorCode?: string }[] }).tables;
    expect(tables.map((t) => t.isOk)).toEqual([true, false, false]);
    expect(tables[1]!.errorCode).toBe('OTSServerBusy');
    expect(tables[2]!.errorCode).toBe('OTSConditionCheckFail');
    expectSame(r);
  });
});

describe('recorded emulator errors are shaped and classified identically on both paths', () => {
  it('403 OTSAuthFailed: a signature made with the wrong secret', async () => {
    const wrong = new (pair.sdk as TableStoreSdk).Client({ endpoint: recorder.endpoint, instancename: emu.connection().instanceName, accessKeyId: emu.connection().accessKeyId, accessKeySecret: 'not-the-secret', maxRetries: 0 });
    const r = await replayed('getRow', () => ({ tableName: 'tl', primaryKey: pk('alice', T.Long.fromString('1')), maxVersions: 1 }), wrong);
    expect(status(r.answer)).toBe(403);
    expect(decodeSdkError(r.wire.error)).toMatchObject({ code: 'OTSAuthFailed', kind: 'fatal' });
    expectSame(r);
  });

  it('400 OTSParameterInvalid and 404 OTSObjectNotExist', async () => {
    const invalid = await replayed('getRange', () => ({ tableName: 'tl', direction: T.Direction.FORWARD, inclusiveStartPrimaryKey: pk('z', T.INF_MAX), exclusiveEndPrimaryKey: pk('a', T.INF_MIN), limit: 1, maxVersions: 1 }));
    expect(status(invalid.answer)).toBe(400);
    expectSame(invalid);
    const missing = await replayed('describeTable', () => ({ tableName: 'no_such_table' }));
    expect(status(missing.answer)).toBe(404);
    expectSame(missing);
  });

  for (const fault of [
    { code: 'OTSServerBusy', kind: 'retryable' },
    { code: 'OTSOperationThrottled', kind: 'retryable' },
    { code: 'OTSQuotaExhausted', message: 'Too frequent table operations.', kind: 'retryable' },
    { code: 'OTSInternalServerError', kind: 'ambiguous' },
    { code: 'OTSServerUnavailable', kind: 'ambiguous' },
    { code: 'OTSTimeout', kind: 'ambiguous' },
    // A message over 127 bytes: its protobuf length prefix is not valid UTF-8 once the SDK reads the body as text.
    { code: 'OTSServerBusy', message: `Busy ${'é'.repeat(90)}`, kind: 'retryable' },
  ]) {
    it(`${fault.code}${fault.message === undefined ? '' : ` (${fault.message.slice(0, 20)}…)`}: answered ${fault.kind}`, async () => {
      emu.faults.inject({ api: 'PutRow', code: fault.code, ...(fault.message === undefined ? {} : { message: fault.message }), times: 1 });
      const r = await replayed('putRow', () => ({ tableName: 'tl', condition: cond(), primaryKey: pk('erin', T.PK_AUTO_INCR), attributeColumns: [{ payload: Buffer.from('p') }] }));
      expect(status(r.answer)).toBeGreaterThanOrEqual(400);
      expect(decodeSdkError(r.wire.error)).toMatchObject({ code: fault.code, kind: fault.kind });
      expectSame(r);
    });
  }
});

describe('answers and failures the emulator does not produce are shaped identically', () => {
  let sdkResult: { error?: unknown };
  for (const [status, name] of [
    [403, 'Forbidden'],
    [404, 'NotFound'],
    [400, 'BadRequest'],
    [502, undefined],
  ] as const) {
    it(`an empty-bodied ${status}`, async () => {
      recorder.answerWith(() => ({ status, headers: { 'x-ots-requestid': 'req-empty' } }));
      const call = (c: TableStoreClientLike): ReturnType<typeof settle> => settle(c, 'describeTable', { tableName: 'tl' });
      sdkResult = await call(pair.sdkClient);
      const wire = await call(pair.wireClient);
      expect((sdkResult.error as { code: unknown }).code).toBe(name ?? status);
      expectSame({ sdk: sdkResult, wire });
    });
  }

  it('a 200 whose body does not decode', async () => {
    recorder.answerWith(() => ({ status: 200, body: Buffer.from([0xff, 0xff, 0xff]) }));
    const sdk = await settle(pair.sdkClient, 'getRow', { tableName: 'tl', primaryKey: pk('a', T.Long.fromString('1')), maxVersions: 1 });
    const wire = await settle(pair.wireClient, 'getRow', { tableName: 'tl', primaryKey: pk('a', T.Long.fromString('1')), maxVersions: 1 });
    expect(sdk.error).toBeDefined();
    expectSame({ sdk, wire });
  });

  it('a connection dropped without an answer', async () => {
    recorder.answerWith(() => 'drop');
    const sdk = await settle(pair.sdkClient, 'describeTable', { tableName: 'tl' });
    const wire = await settle(pair.wireClient, 'describeTable', { tableName: 'tl' });
    expect(decodeSdkError(sdk.error)).toMatchObject({ code: 'NetworkingError', kind: 'ambiguous' });
    expectSame({ sdk, wire });
  });

  it('a request the server never answers (the client timeout, 300 ms)', async () => {
    recorder.answerWith(() => 'hang');
    const sdk = await settle(pair.sdkClient, 'describeTable', { tableName: 'tl' });
    const wire = await settle(pair.wireClient, 'describeTable', { tableName: 'tl' });
    expect(decodeSdkError(sdk.error)).toMatchObject({ code: 'TimeoutError', kind: 'ambiguous' });
    expectSame({ sdk, wire });
  });

  it('a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await clientPair({ endpoint: `http://127.0.0.1:${port}` });
    try {
      const sdk = await settle(refused.sdkClient, 'describeTable', { tableName: 'tl' });
      const wire = await settle(refused.wireClient, 'describeTable', { tableName: 'tl' });
      expect(decodeSdkError(sdk.error)).toMatchObject({ code: 'NetworkingError', kind: 'retryable', notSent: true });
      expectSame({ sdk, wire });
    } finally {
      refused.close();
    }
  });
});

describe("with sdkMaxRetries above 0, the wire path retries exactly what the SDK's own policy retries", () => {
  // Live against the emulator (no replay): the number of requests each client makes is the evidence.
  // The SDK compares the code with OTS names, but its code is the HTTP status, so only the
  // status rule (500, 502, 503 on a repeatable API) and network errors ever match.
  for (const c of [
    { api: 'GetRow', code: 'OTSServerBusy', expected: 2 },
    { api: 'PutRow', code: 'OTSServerBusy', expected: 1 },
    { api: 'GetRow', code: 'OTSObjectNotExist', expected: 1 },
  ]) {
    it(`${c.api} answered ${c.code} once: ${c.expected} request${c.expected === 1 ? '' : 's'} on both paths`, async () => {
      const live = await clientPair({ ...emu.connection(), maxRetries: 2 });
      try {
        const counts: number[] = [];
        const outcomes: string[] = [];
        for (const client of [live.sdkClient, live.wireClient]) {
          emu.faults.inject({ api: c.api, code: c.code, times: 1 });
          const before = emu.stats().requests[c.api] ?? 0;
          const params = c.api === 'GetRow' ? { tableName: 'tl', primaryKey: pk('alice', T.Long.fromString('1')), maxVersions: 1 } : { tableName: 'tl', condition: cond(), primaryKey: pk('retry', T.PK_AUTO_INCR), attributeColumns: [{ p: 'x' }] };
          const r = await settle(client, c.api === 'GetRow' ? 'getRow' : 'putRow', params);
          counts.push((emu.stats().requests[c.api] ?? 0) - before);
          outcomes.push(r.error === undefined ? 'resolved' : `rejected ${decodeSdkError(r.error).code}`);
          emu.faults.clear();
        }
        expect(counts).toEqual([c.expected, c.expected]);
        expect(outcomes[1]).toBe(outcomes[0]);
      } finally {
        live.close();
      }
    });
  }
});
