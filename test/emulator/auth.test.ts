import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { failure, TableStore } from './sdk.js';

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ instanceName: 'inst', accessKeyId: 'id-1', accessKeySecret: 'secret-1' });
});
afterAll(async () => {
  await emu.close();
});

const sdk = (over: Record<string, unknown> = {}) =>
  new TableStore.Client({ endpoint: emu.endpoint, instancename: 'inst', accessKeyId: 'id-1', secretAccessKey: 'secret-1', maxRetries: 0, ...over });

/** Signs like the service expects, independently of the emulator's code. */
function signedHeaders(path: string, body: Buffer, over: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = {
    'x-ots-apiversion': '2015-12-31',
    'x-ots-instancename': 'inst',
    'x-ots-date': new Date().toISOString(),
    'x-ots-accesskeyid': 'id-1',
    'x-ots-contentmd5': createHash('md5').update(body).digest('base64'),
    ...over,
  };
  const canonical = Object.keys(h)
    .filter((k) => k.startsWith('x-ots-'))
    .sort()
    .map((k) => `${k}:${h[k]}\n`)
    .join('');
  h['x-ots-signature'] = createHmac('sha1', 'secret-1').update(`${path}\nPOST\n\n${canonical}`).digest('base64');
  return h;
}

function raw(method: string, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
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

describe('authentication', () => {
  it('accepts the configured credentials', async () => {
    expect((await sdk().listTable({})).tableNames).toEqual([]);
  });

  it.each([
    ['a wrong secret', { secretAccessKey: 'nope' }, 'Signature mismatch'],
    ['an unknown key id', { accessKeyId: 'other' }, 'AccessKeyID does not exist'],
    ['another instance', { instancename: 'elsewhere' }, 'instance'],
  ])('rejects %s with 403 OTSAuthFailed', async (_what, over, text) => {
    const err = await failure(sdk(over).listTable({}));
    expect(err.code).toBe(403);
    expect(err.message).toContain('OTSAuthFailed');
    expect(err.message).toContain(text);
  });

  it('accepts an STS token header as part of the signature', async () => {
    expect((await sdk({ stsToken: 'token' }).listTable({})).tableNames).toEqual([]);
  });

  it('rejects a body that does not match x-ots-contentmd5', async () => {
    const body = Buffer.alloc(0);
    const headers = signedHeaders('/ListTable', body, { 'x-ots-contentmd5': createHash('md5').update('other').digest('base64') });
    const res = await raw('POST', '/ListTable', body, headers);
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain('OTSAuthFailed');
    expect(res.body.toString()).toContain('MD5');
    expect(res.headers['x-ots-requestid']).toBeTruthy();
  });

  it('answers a correctly signed raw request', async () => {
    const body = Buffer.alloc(0);
    const res = await raw('POST', '/ListTable', body, signedHeaders('/ListTable', body));
    expect(res.status).toBe(200);
    expect(res.headers['x-ots-requestid']).toBeTruthy();
  });

  it('rejects a missing header, a GET, an unknown and an unsupported API', async () => {
    const body = Buffer.alloc(0);
    const headers = signedHeaders('/ListTable', body);
    delete headers['x-ots-date'];
    const missing = await raw('POST', '/ListTable', body, headers);
    expect(missing.status).toBe(400);
    expect(missing.body.toString()).toContain("Missing header: 'x-ots-date'");
    expect((await raw('GET', '/ListTable', body, signedHeaders('/ListTable', body))).status).toBe(405);
    const unsupported = await raw('POST', '/CreateIndex', body, signedHeaders('/CreateIndex', body));
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.toString()).toContain('not supported by the emulator');
    for (const api of ['/ListStream', '/GetStreamRecord', '/SQLQuery', '/Search', '/StartLocalTransaction']) {
      const r = await raw('POST', api, body, signedHeaders(api, body));
      expect([api, r.status, r.body.toString().includes('not supported by the emulator')]).toEqual([api, 400, true]);
    }
    const unknown = await raw('POST', '/__emulator', body, signedHeaders('/__emulator', body));
    expect(unknown.status).toBe(400);
  });

  it('answers SDK calls to unsupported APIs with a clear error', async () => {
    const client = sdk() as unknown as Record<string, (p: unknown) => Promise<unknown>>;
    const err = await failure(client.listSearchIndex!({ tableName: 't' }));
    expect(err.code).toBe(400);
    expect(err.message).toContain('not supported by the emulator');
    const tx = await failure(client.startLocalTransaction!({ tableName: 't', primaryKey: [{ k: 'a' }] }));
    expect(tx.code).toBe(400);
  });
});
