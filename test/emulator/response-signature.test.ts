/**
 * The response headers and signature the stricter official SDKs (Python, Java, Go, PHP, .NET)
 * check, verified here independently of the Node SDK and of the emulator's own code: raw HTTP
 * requests, and the checks those SDKs make, written out from their published behaviour.
 */
import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';

let emu: Emulator;
const ID = 'resp-id';
const SECRET = 'resp-secret';

beforeAll(async () => {
  emu = await startEmulator({ instanceName: 'inst', accessKeyId: ID, accessKeySecret: SECRET });
});
afterAll(async () => {
  await emu.close();
});

function requestHeaders(path: string, body: Buffer, secret = SECRET, accessKeyId = ID): Record<string, string> {
  const h: Record<string, string> = {
    'x-ots-apiversion': '2015-12-31',
    'x-ots-instancename': 'inst',
    'x-ots-date': new Date().toISOString(),
    'x-ots-accesskeyid': accessKeyId,
    'x-ots-contentmd5': createHash('md5').update(body).digest('base64'),
  };
  const canonical = Object.keys(h)
    .sort()
    .map((k) => `${k}:${h[k]}\n`)
    .join('');
  h['x-ots-signature'] = createHmac('sha1', secret).update(`${path}\nPOST\n\n${canonical}`).digest('base64');
  return h;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function call(method: string, path: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(emu.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, 'content-length': String(body.length) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const api = (path: string, body: Buffer = Buffer.alloc(0), secret?: string, id?: string) => call('POST', path, body, requestHeaders(path, body, secret, id));

/** A protobuf message with one string field 1 (`table_name`). */
function tableNameBody(name: string): Buffer {
  const n = Buffer.from(name);
  return Buffer.concat([Buffer.from([0x0a, n.length]), n]);
}

/** The checks the Python SDK makes on an answer (headers, MD5, date, then the signature), as errors. */
function strictSdkProblems(path: string, a: Answer): string[] {
  const problems: string[] = [];
  const h = a.headers;
  for (const name of ['x-ots-contentmd5', 'x-ots-requestid', 'x-ots-date', 'x-ots-contenttype']) {
    if (typeof h[name] !== 'string') problems.push(`missing ${name}`);
  }
  if (h['x-ots-contentmd5'] !== createHash('md5').update(a.body).digest('base64')) problems.push('MD5 mismatch');
  const date = String(h['x-ots-date']);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}Z$/.test(date)) problems.push(`bad date format ${date}`);
  else if (Math.abs(Date.parse(date.replace(/(\.\d{3})\d*Z$/, '$1Z')) - Date.now()) > 15 * 60_000) problems.push('date more than 15 minutes away');
  const auth = h.authorization;
  if (typeof auth !== 'string') {
    problems.push('missing Authorization');
    return problems;
  }
  if (!auth.startsWith('OTS ')) problems.push('Authorization does not start with "OTS "');
  const [id, signature] = auth.slice(4).split(':');
  if (id !== ID) problems.push(`access key id ${id}`);
  const lines = Object.keys(h)
    .filter((k) => k.startsWith('x-ots-'))
    .sort()
    .map((k) => `${k}:${String(h[k]).trim()}`);
  const expected = createHmac('sha1', SECRET).update(`${lines.join('\n')}\n${path}`).digest('base64');
  if (signature !== expected) problems.push('signature mismatch');
  return problems;
}

describe('response headers and signature', () => {
  it('on a success', async () => {
    const a = await api('/ListTable');
    expect(a.status).toBe(200);
    expect(a.headers['x-ots-contenttype']).toBe('protocol buffer');
    expect(strictSdkProblems('/ListTable', a)).toEqual([]);
  });

  it.each([
    ['404 OTSObjectNotExist', '/DescribeTable', tableNameBody('missing'), 404],
    ['400 OTSParameterInvalid (malformed request)', '/DescribeTable', Buffer.from([0xff]), 400],
    ['400 unsupported API', '/CreateSearchIndex', Buffer.alloc(0), 400],
    ['400 unknown API', '/no_such_api', Buffer.alloc(0), 400],
  ] as [string, string, Buffer, number][])('on an error answer: %s', async (_what, path, body, status) => {
    const a = await api(path, body);
    expect(a.status).toBe(status);
    expect(strictSdkProblems(path, a)).toEqual([]);
  });

  it('on a 403 that is not OTSAuthFailed (a failed condition), which the SDKs must verify', async () => {
    // CreateTable t(k STRING), then PutRow with EXPECT_EXIST on a missing row.
    const { TableStore } = await import('./sdk.js');
    const client = new TableStore.Client({ ...emu.clientConfig(), maxRetries: 0 });
    await client.createTable({ tableMeta: { tableName: 't', primaryKey: [{ name: 'k', type: 'STRING' }] }, reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } });
    const row = TableStore.PlainBufferBuilder.serializeForPutRow([{ k: 'x' }], [{ a: 'b' }]);
    // PutRowRequest { table_name = 1: 't', row = 2, condition = 3 { row_existence = 1: EXPECT_EXIST } }
    const body: Buffer = Buffer.concat([tableNameBody('t'), Buffer.from([0x12, row.length]), row, Buffer.from([0x1a, 0x02, 0x08, 0x01])]);
    const a = await api('/PutRow', body);
    expect(a.status).toBe(403);
    expect(a.body.toString('latin1')).toContain('OTSConditionCheckFail');
    expect(strictSdkProblems('/PutRow', a)).toEqual([]);
  });

  it('on 403 OTSAuthFailed, 405 and 413 answers too', async () => {
    const auth = await api('/ListTable', Buffer.alloc(0), 'wrong-secret');
    expect(auth.status).toBe(403);
    expect(strictSdkProblems('/ListTable', auth)).toEqual([]);
    const method = await call('GET', '/ListTable', Buffer.alloc(0), requestHeaders('/ListTable', Buffer.alloc(0)));
    expect(method.status).toBe(405);
    expect(strictSdkProblems('/ListTable', method)).toEqual([]);
    const big = Buffer.alloc(4 * 1024 * 1024 + 1);
    const tooLarge = await api('/PutRow', big);
    expect(tooLarge.status).toBe(413);
    expect(strictSdkProblems('/PutRow', tooLarge)).toEqual([]);
  });

  it('detects a tampered answer (the check itself can fail)', async () => {
    const a = await api('/ListTable');
    expect(strictSdkProblems('/ListTable', { ...a, headers: { ...a.headers, 'x-ots-requestid': 'other' } })).toEqual(['signature mismatch']);
    expect(strictSdkProblems('/GetRow', a)).toEqual(['signature mismatch']);
    const { authorization: _drop, ...rest } = a.headers;
    expect(strictSdkProblems('/ListTable', { ...a, headers: rest })).toEqual(['missing Authorization']);
  });
});
