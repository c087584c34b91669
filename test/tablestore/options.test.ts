import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { TimelineStore } from '../../src/core/timeline-store.js';
import { TableStoreBackend } from '../../src/backends/tablestore/index.js';
import { collect, harness, tableName, timelineId, type Harness } from './helpers.js';

const connection = { endpoint: 'http://127.0.0.1:1', instanceName: 'i', accessKeyId: 'id', accessKeySecret: 'secret' };

describe('TableStoreBackend options', () => {
  it('validates connection settings synchronously', () => {
    expect(() => new TableStoreBackend({ ...connection, endpoint: undefined })).toThrow(ValidationError);
    expect(() => new TableStoreBackend({ ...connection, accessKeySecret: '' })).toThrow(/options\.accessKeySecret/);
    expect(() => new TableStoreBackend({ ...connection, endpoint: 'my-instance.ots.aliyuncs.com' })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => new TableStoreBackend({ ...connection, requestTimeoutMs: 0 })).toThrow(/options\.requestTimeoutMs/);
    expect(() => new TableStoreBackend({ ...connection, sdkMaxRetries: -1 })).toThrow(/options\.sdkMaxRetries/);
    expect(() => new TableStoreBackend(undefined as never)).toThrow(ValidationError);
  });

  it('takes a client or connection settings, not both', () => {
    expect(() => new TableStoreBackend({ client: {}, ...connection })).toThrow(/either `options.client` or connection settings/);
    expect(() => new TableStoreBackend({ client: { putRow: 1 } })).toThrow(/TableStore.Client/);
  });

  it('validates the transport, which a given client excludes', () => {
    expect(() => new TableStoreBackend({ ...connection, transport: 'http' as never })).toThrow(/options\.transport.*'wire' or 'sdk', got "http"/);
    expect(() => new TableStoreBackend({ client: { putRow: () => 0, getRange: () => 0 }, transport: 'wire' })).toThrow(/`options.transport: 'wire'` needs connection settings/);
    expect(() => new TableStoreBackend({ client: { putRow: () => 0, getRange: () => 0 }, transport: 'sdk' })).not.toThrow();
    expect(() => new TableStoreBackend({ ...connection, transport: 'sdk' })).not.toThrow();
  });

  it('sends through the SDK client only on the sdk transport (the wire transport is the default)', async () => {
    const h = await harness();
    const makeRequest = vi.spyOn((h.sdk.Client as unknown as { prototype: { makeRequest: () => unknown } }).prototype, 'makeRequest');
    try {
      for (const [backend, viaSdk] of [
        [h.backend, false],
        [h.another({ transport: 'wire' }), false],
        [h.another({ transport: 'sdk' }), true],
      ] as const) {
        makeRequest.mockClear();
        const store = new TimelineStore<string>({ backend, table: tableName() });
        await store.init();
        await store.timeline(timelineId()).append('hello');
        expect(makeRequest.mock.calls.length > 0).toBe(viaSdk);
      }
    } finally {
      makeRequest.mockRestore();
      await h.close();
    }
  });

  it('validates the other options', () => {
    expect(() => new TableStoreBackend({ ...connection, retryStrategy: 5 as never })).toThrow(/retryStrategy/);
    expect(() => new TableStoreBackend({ ...connection, orderedBatches: 'yes' as never })).toThrow(/orderedBatches/);
    expect(() => new TableStoreBackend({ ...connection, ambiguityWindowRows: 0 })).toThrow(/ambiguityWindowRows/);
    expect(() => new TableStoreBackend({ ...connection, columns: { seq: 'seq id' } })).toThrow(/options\.columns\.seq/);
  });

  it('declares TableStore capabilities', () => {
    const backend = new TableStoreBackend(connection);
    expect(backend.capabilities).toEqual({
      name: 'tablestore',
      maxBatchRows: 200,
      maxBatchBytes: 4 * 1024 * 1024 - 64 * 1024,
      maxMessageBytes: 4_000_000,
      maxScanPageRows: 5000,
      ttlGranularitySeconds: 0,
      orderedBatches: false,
      rowOverheadBytes: expect.any(Number) as number,
      minTtlSeconds: 86_400,
      maxTtlSeconds: 2 ** 31 - 1,
    });
    expect(Object.isFrozen(backend.capabilities)).toBe(true);
    expect(new TableStoreBackend({ ...connection, orderedBatches: true }).capabilities.orderedBatches).toBe(true);
  });
});

describe('an existing TableStore.Client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('is used as given, and left open by close()', async () => {
    const backend = new TableStoreBackend({ client: h.client });
    const store = new TimelineStore<string>({ backend, table: tableName() });
    const tl = store.timeline(timelineId());
    await tl.append('hello', { messageId: 'm-1' });
    expect((await collect(tl.scan())).map((e) => e.message)).toEqual(['hello']);
    await backend.close();
    expect((await h.client.describeTable({ tableName: store.table })).tableMeta?.tableName).toBe(store.table);
  });
});
