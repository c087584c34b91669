// A custom backend in about 80 lines, proven with the shared contract suite.
// Run: npx ts-node examples/custom-backend.ts
//
// Any storage that can keep rows ordered per timeline can back a TimelineStore. This one keeps each
// timeline as a plain sorted array and runs `describeBackendContract` under `node:test`, the same
// suite every backend of this package passes (TableStore and memory run it under vitest).
import { after, describe, it } from 'node:test';
import {
  BackendError,
  ClosedError,
  TableIncompatibleError,
  type AppendRow,
  type AppendRowResult,
  type BackendCapabilities,
  type EnsureTableOptions,
  type ScanPage,
  type ScanPageRequest,
  type StoredRow,
  type TableDescription,
  type TableSpec,
  type TimelineBackend,
} from '../src/index.js';
import { describeBackendContract } from '../src/testing/index.js';

interface Row extends StoredRow {
  writtenAt: number;
}

class ArrayBackend implements TimelineBackend {
  readonly capabilities: BackendCapabilities = {
    name: 'array',
    maxBatchRows: 100,
    maxBatchBytes: 4 * 1024 * 1024,
    maxMessageBytes: 2 * 1024 * 1024,
    maxScanPageRows: 1000,
    ttlGranularitySeconds: 0,
    orderedBatches: true,
    rowOverheadBytes: 0,
  };
  readonly #tables = new Map<string, { ttlSeconds: number; rows: Map<string, Row[]> }>();
  #closed = false;

  constructor(private readonly now: () => number, private readonly firstSeq: bigint) {}

  async ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    const table = this.#open().get(spec.table);
    if (!table) {
      this.#tables.set(spec.table, { ttlSeconds: spec.ttlSeconds, rows: new Map() });
      return { ...spec, created: true, ttlUpdated: false };
    }
    if (table.ttlSeconds === spec.ttlSeconds) return { ...spec, created: false, ttlUpdated: false };
    if (options?.onTtlMismatch === 'error') throw new TableIncompatibleError(`${spec.table} has TTL ${table.ttlSeconds}, wanted ${spec.ttlSeconds}`);
    table.ttlSeconds = spec.ttlSeconds;
    return { ...spec, created: false, ttlUpdated: true };
  }

  async append(table: string, rows: readonly AppendRow[]): Promise<AppendRowResult[]> {
    const t = this.#table(table);
    return rows.map((row) => {
      const list = t.rows.get(row.timelineId) ?? [];
      t.rows.set(row.timelineId, list);
      const seq = (list.at(-1)?.seq ?? this.firstSeq - 1n) + 1n;
      list.push({ ...row, payload: row.payload.slice(), seq, writtenAt: this.now() });
      return { ok: true, seq };
    });
  }

  async get(table: string, timelineId: string, seq: bigint): Promise<StoredRow | undefined> {
    return this.#live(table, timelineId).find((r) => r.seq === seq);
  }

  async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    const { from, to, direction, limit } = request;
    let rows = this.#live(table, request.timelineId).filter((r) =>
      direction === 'forward' ? (from === undefined || r.seq >= from) && (to === undefined || r.seq < to) : (from === undefined || r.seq <= from) && (to === undefined || r.seq > to),
    );
    if (direction === 'backward') rows = rows.reverse();
    const page = rows.slice(0, limit);
    return rows.length > limit ? { rows: page, next: rows[limit]!.seq } : { rows: page };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  // Expired rows simply filter out (a real backend would also reclaim them).
  #live(table: string, timelineId: string): Row[] {
    const t = this.#table(table);
    const cutoff = t.ttlSeconds < 0 ? -Infinity : this.now() - t.ttlSeconds * 1000;
    return (t.rows.get(timelineId) ?? []).filter((r) => r.writtenAt > cutoff);
  }

  #table(name: string) {
    const table = this.#open().get(name);
    if (!table) throw new BackendError(`no table ${name}`, { backendCode: 'TableNotFound' });
    return table;
  }

  #open() {
    if (this.#closed) throw new ClosedError('ArrayBackend');
    return this.#tables;
  }
}

describeBackendContract(
  { describe, it: (name, fn) => it(name, fn), afterAll: (fn) => after(fn) },
  { name: 'ArrayBackend (examples/custom-backend.ts)', createBackend: ({ now, firstSeq }) => new ArrayBackend(now, firstSeq) },
);
