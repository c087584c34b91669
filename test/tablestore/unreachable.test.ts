/**
 * An endpoint where no server listens (emulator not started, wrong port) fails an operation at
 * once with a message naming the endpoint, instead of retrying for the whole budget.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../src/core/errors.js';
import { TableStoreBackend, type RetryStrategy } from '../../src/backends/tablestore/index.js';
import { fakeClient, harness, requests, tableName, timelineId, type Harness } from './helpers.js';

/** A port on 127.0.0.1 that nothing listens on: bound by the OS, then released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let endpoint: string;
let consulted: number;
let backend: TableStoreBackend;
// Were a refused connection retried, the strategy would be asked (bounded: 20 attempts).
const strategy: RetryStrategy = ({ attempt }) => {
  consulted++;
  return attempt < 20 ? 1 : null;
};

beforeAll(async () => {
  endpoint = `http://127.0.0.1:${await freePort()}`;
  backend = new TableStoreBackend({ endpoint, instanceName: 'i', accessKeyId: 'id', accessKeySecret: 'secret', retryStrategy: strategy });
});
afterAll(async () => {
  await backend.close();
});

const operations: [string, () => Promise<unknown>][] = [
  ['ensureTable', () => backend.ensureTable({ table: 't', ttlSeconds: -1 })],
  ['get', () => backend.get('t', 'tl', 1n)],
  ['scan', () => backend.scan('t', { timelineId: 'tl', direction: 'forward', limit: 10 })],
  ['ensureRecordTable', () => backend.records.ensureRecordTable({ table: 'r', ttlSeconds: -1 })],
  ['getRecord', () => backend.records.getRecord('r', 'p', 'k')],
  ['scanRecords', () => backend.records.scanRecords('r', { partition: 'p', limit: 10 })],
];

describe('an unreachable endpoint', () => {
  for (const [operation, call] of operations) {
    it(`${operation} fails on the first refused connection, naming the endpoint`, async () => {
      consulted = 0;
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: 'BACKEND', backendCode: 'NetworkingError', operation, retryable: true });
      expect((error as Error).message).toContain(`cannot connect to ${endpoint}`);
      expect((error as Error).message).toMatch(/Is the TableStore server .* running there\?/);
      expect((error as Error).message).not.toMatch(/retryStrategy/);
      expect(consulted).toBe(0);
    });
  }

  it('append gives every row the unreachable error, without retrying', async () => {
    consulted = 0;
    const results = await backend.append('t', [
      { timelineId: 'a', payload: new Uint8Array([1]) },
      { timelineId: 'b', payload: new Uint8Array([2]) },
    ]);
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result.ok).toBe(false);
      const error = (result as { error: unknown }).error as BackendError;
      expect(error).toMatchObject({ code: 'BACKEND', backendCode: 'NetworkingError', retryable: true });
      expect(error.message).toContain(`cannot connect to ${endpoint}`);
    }
    const [single] = await backend.append('t', [{ timelineId: 'a', payload: new Uint8Array([1]) }]);
    expect(single?.ok === false && single.error.message).toContain('running there?');
    expect(consulted).toBe(0);
  });

  it('writeRecords gives every write the unreachable error, without retrying', async () => {
    consulted = 0;
    for (const count of [1, 3]) {
      const writes = Array.from({ length: count }, (_, i) => ({ type: 'put' as const, partition: 'p', key: `k${i}`, value: new Uint8Array([i]), version: 'v' }));
      const results = await backend.records.writeRecords('r', writes);
      expect(results).toHaveLength(count);
      for (const result of results) {
        expect(result).toMatchObject({ ok: false, conflict: false });
        expect((result as { error: Error }).error.message).toContain(`cannot connect to ${endpoint}`);
      }
    }
    expect(consulted).toBe(0);
  });
});

describe('a server that was reachable', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('still retries ordinary retryable errors under the strategy', async () => {
    const name = tableName();
    await h.backend.ensureTable({ table: name, ttlSeconds: -1 });
    h.emu.faults.inject({ api: 'GetRange', code: 'OTSServerBusy', times: 2 });
    const before = requests(h.emu, 'GetRange');
    expect(await h.backend.scan(name, { timelineId: timelineId(), direction: 'forward', limit: 10 })).toEqual({ rows: [] });
    expect(requests(h.emu, 'GetRange') - before).toBe(3);
  });
});

describe('a refused connection after the server answered (a restart)', () => {
  it('is retried under the strategy like any retryable error; refused on the first attempt, it is not', async () => {
    const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8800'), { code: 'NetworkingError' });
    // The SDK's shape of a service error: the HTTP status as `code`, the protobuf body as text.
    const busy = (): Error => Object.assign(new Error('\n\rOTSServerBusy\u0012\u000bServer busy requestId:r-1'), { code: 503 });
    const script: (() => Promise<unknown>)[] = [];
    let calls = 0;
    const client = fakeClient({
      getRange: () => {
        calls++;
        const next = script.shift();
        return next === undefined ? Promise.reject(new Error('script exhausted')) : next();
      },
    });
    let asked = 0;
    const b = new TableStoreBackend({ client, retryStrategy: ({ attempt }) => (asked++, attempt < 10 ? 0 : null) });
    const page = { timelineId: 'tl', direction: 'forward' as const, limit: 10 };

    script.push(() => Promise.reject(busy()), () => Promise.reject(refused()), () => Promise.resolve({ rows: [] }));
    expect(await b.scan('t', page)).toEqual({ rows: [] });
    expect([calls, asked]).toEqual([3, 2]);

    calls = 0;
    asked = 0;
    script.push(() => Promise.reject(refused()), () => Promise.resolve({ rows: [] }));
    const error = await b.scan('t', page).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/cannot connect to .*running there\?/);
    expect([calls, asked]).toEqual([1, 0]);
    await b.close();
  });
});
