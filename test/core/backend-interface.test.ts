// The backend interface as a third party meets it: optional capabilities with defaults, limits
// declared by the backend, the core's GuardedBackend doing closed/abort checks once, and a
// contract suite that holds the raw interface to what it declares.
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  BackendError,
  BoundedMap,
  ClosedError,
  DEFAULT_CAPABILITIES,
  GuardedBackend,
  MemoryBackend,
  TimelineStore,
  ValidationError,
  batchBounds,
  splitIntoChunks,
  type AppendRow,
  type AppendRowResult,
  type BackendAppendOptions,
  type ScanPage,
  type ScanPageRequest,
  type TimelineBackend,
} from '../../src/index.js';
import { compositeKey } from '../../src/core/composite-key.js';
import { describeBackendContract, PassThroughBackend, type ContractFramework } from '../../src/testing/index.js';

describe('capabilities', () => {
  it('are optional: a backend declaring none gets the defaults, including unordered batches', () => {
    const store = new TimelineStore({ backend: new PassThroughBackend(new MemoryBackend(), undefined) as TimelineBackend, table: 't' });
    expect(store.capabilities.name).toBe('memory');
    const bare: TimelineBackend = { ensureTable: async () => ({ table: 't', ttlSeconds: -1, created: true, ttlUpdated: false }), append: async () => [], get: async () => undefined, scan: async () => ({ rows: [] }), close: async () => {} };
    expect(new TimelineStore({ backend: bare, table: 't' }).capabilities).toEqual(DEFAULT_CAPABILITIES);
    expect(DEFAULT_CAPABILITIES.orderedBatches).toBe(false);
  });

  it("take the backend's TTL range and table-name pattern instead of TableStore's", () => {
    const sqlite = new PassThroughBackend(new MemoryBackend(), { name: 'sqlite', minTtlSeconds: 60, tableNamePattern: /^[a-z][a-z0-9-]*$/ });
    expect(new TimelineStore({ backend: sqlite, table: 'chat-log', ttlSeconds: 60 }).ttlSeconds).toBe(60);
    expect(() => new TimelineStore({ backend: sqlite, table: 'Chat_Log' })).toThrow(/the sqlite backend's table-name rule/);
    expect(() => new TimelineStore({ backend: sqlite, table: 't', ttlSeconds: 59 })).toThrow(/at least 60 seconds/);
    // The memory backend keeps TableStore's rules, so code tested on it runs in production.
    expect(() => new TimelineStore({ backend: new MemoryBackend(), table: 't', ttlSeconds: 60 })).toThrow(/at least 86400 seconds/);
    expect(() => new TimelineStore({ backend: new MemoryBackend(), table: 'chat-log' })).toThrow(ValidationError);
  });
});

describe('declared capabilities are checked when a store is built', () => {
  it('names the wrong field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ maxBatchRows: 0 }, 'maxBatchRows'],
      [{ maxScanPageRows: 1.5 }, 'maxScanPageRows'],
      [{ orderedBatches: 'yes' }, 'orderedBatches'],
      [{ minTtlSeconds: 100, maxTtlSeconds: 10 }, 'maxTtlSeconds'],
      [{ tableNamePattern: '^t$' }, 'tableNamePattern'],
      [{ name: '' }, 'name'],
    ];
    for (const [declared, field] of cases) {
      const backend = new PassThroughBackend(new MemoryBackend(), declared as never);
      expect(() => new TimelineStore({ backend, table: 't' }), field).toThrow(expect.objectContaining({ parameter: `options.backend.capabilities.${field}` }) as Error);
    }
  });
});

describe('batch splitting', () => {
  it('has one rule: rows and bytes, in order, an oversized row alone', () => {
    expect(batchBounds(5, () => 10, { maxBatchRows: 2, maxBatchBytes: 1000 })).toEqual([0, 2, 4, 5]);
    expect(batchBounds(4, (i) => [5, 50, 5, 5][i]!, { maxBatchRows: 10, maxBatchBytes: 20 })).toEqual([0, 1, 2, 4]);
    expect(batchBounds(0, () => 1, { maxBatchRows: 1, maxBatchBytes: 1 })).toEqual([0]);
    const rows: AppendRow[] = [3, 3, 3].map((n) => ({ timelineId: 'ab', payload: new Uint8Array(n) }));
    expect(splitIntoChunks(rows, { maxBatchRows: 10, maxBatchBytes: 10, rowOverheadBytes: 0 })).toEqual([[0, 1], [2]]);
  });
});

describe('GuardedBackend', () => {
  class Probe extends PassThroughBackend {
    calls = 0;
    closes = 0;
    override append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
      this.calls += 1;
      return super.append(table, rows, options);
    }
    override close(): Promise<void> {
      this.closes += 1;
      return super.close();
    }
  }

  it('rejects every call after close (closing the inner backend once) and aborted calls before they reach the backend', async () => {
    const probe = new Probe(new MemoryBackend());
    const guarded = new GuardedBackend(probe);
    await guarded.ensureTable({ table: 't', ttlSeconds: -1 });
    const controller = new AbortController();
    controller.abort();
    await expect(guarded.append('t', [{ timelineId: 'a', payload: new Uint8Array(1) }], { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(probe.calls).toBe(0);
    await Promise.all([guarded.close(), guarded.close()]);
    expect(probe.closes).toBe(1);
    await expect(guarded.append('t', [])).rejects.toBeInstanceOf(ClosedError);
    await expect(guarded.scan('t', { timelineId: 'a', direction: 'forward', limit: 1 })).rejects.toBeInstanceOf(ClosedError);
    expect(GuardedBackend.wrap(guarded)).toBe(guarded);
  });

  it('turns anything a backend throws into a BackendError with the cause', async () => {
    const thrown = Object.create(null) as object;
    const broken = new (class extends PassThroughBackend {
      override scan(): Promise<ScanPage> {
        return Promise.reject(thrown);
      }
    })(new MemoryBackend());
    const store = new TimelineStore({ backend: broken, table: 't' });
    const error = await store.timeline('a').latest().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).cause).toBe(thrown);
  });
});

describe('BoundedMap and compositeKey', () => {
  it('evicts the least recently used entry beyond maxSize', () => {
    const map = new BoundedMap<string, number>({ maxSize: 2 });
    map.set('a', 1).set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect([...map.keys()]).toEqual(['a', 'c']);
    expect(map.size).toBe(2);
    expect(new BoundedMap({ maxSize: 0 }).set('x', 1).size).toBe(0);
    expect(() => new BoundedMap({ maxSize: -1 })).toThrow(ValidationError);
  });

  it('builds injective keys: no two splits of the same characters collide', () => {
    expect(compositeKey('a\0b', 'c')).not.toBe(compositeKey('a', 'b\0c'));
    expect(compositeKey('1:a', '')).not.toBe(compositeKey('1', ':a'));
    expect(compositeKey('ab')).not.toBe(compositeKey('a', 'b'));
  });
});

describe('the contract suite tests the raw interface', () => {
  // Runs the suite with a minimal framework and returns the names of the tests that failed.
  async function failures(createBackend: () => TimelineBackend): Promise<string[]> {
    const tests: [string, () => Promise<void>][] = [];
    const framework: ContractFramework = { describe: (_name, fn) => fn(), it: (name, fn) => void tests.push([name, fn]) };
    describeBackendContract(framework, { name: 'probe', createBackend, honoursClock: false });
    const failed: string[] = [];
    for (const [name, fn] of tests.filter(([name]) => name.startsWith('raw:'))) {
      await fn().catch(() => failed.push(name));
    }
    return failed;
  }

  it('passes the memory backend', async () => {
    expect(await failures(() => new MemoryBackend())).toEqual([]);
  });

  it('fails a backend that cannot take the maxBatchRows it declares', async () => {
    const failed = await failures(
      () =>
        new (class extends PassThroughBackend {
          override append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
            if (rows.length > 10) throw new BackendError('too many rows in one request');
            return super.append(table, rows, options);
          }
        })(new MemoryBackend({ maxBatchRows: 50 })),
    );
    expect(failed).toContain('raw: one append call takes maxBatchRows rows, one result per row in input order');
  });

  it('fails a backend whose scan ignores the limit', async () => {
    const failed = await failures(
      () =>
        new (class extends PassThroughBackend {
          override scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
            return super.scan(table, { ...request, limit: request.limit + 1 });
          }
        })(new MemoryBackend()),
    );
    expect(failed).toEqual(['raw: scan returns at most `limit` rows of the timeline, in order, and `next` continues']);
  });
});
