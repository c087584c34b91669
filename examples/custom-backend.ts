// A custom backend in about 60 lines, proven with the shared contract suite.
// Run: npx ts-node examples/custom-backend.ts
//
// Any storage that can keep rows ordered per timeline can back a TimelineStore. This one keeps each
// timeline as a plain sorted array and runs `describeBackendContract` under `node:test`, the same
// suite every backend of this package passes (TableStore and memory run it under vitest).
// It declares only what differs from the core's defaults, and leaves the closed and abort checks
// to GuardedBackend.
import { after, describe, it } from 'node:test';
import { BackendError, GuardedBackend, TableIncompatibleError, type AppendRow, type ScanPageRequest, type StoredRow, type TableSpec, type TimelineBackend } from '../src/index.js';
import { describeBackendContract } from '../src/testing/index.js';

interface Row extends StoredRow {
  writtenAt: number;
}

function arrayBackend(now: () => number, firstSeq: bigint): TimelineBackend {
  const tables = new Map<string, { ttlSeconds: number; rows: Map<string, Row[]> }>();
  const table = (name: string) => {
    const t = tables.get(name);
    if (!t) throw new BackendError(`no table ${name}`, { backendCode: 'TableNotFound' });
    return t;
  };
  // Expired rows simply filter out (a real backend would also reclaim them).
  const live = (name: string, timelineId: string): Row[] => {
    const t = table(name);
    const cutoff = t.ttlSeconds < 0 ? -Infinity : now() - t.ttlSeconds * 1000;
    return (t.rows.get(timelineId) ?? []).filter((r) => r.writtenAt > cutoff);
  };
  return {
    // Rows of one call get seqs in input order; everything else keeps the core's defaults.
    capabilities: { name: 'array', orderedBatches: true },
    async ensureTable(spec: TableSpec, options) {
      const t = tables.get(spec.table);
      if (!t) tables.set(spec.table, { ttlSeconds: spec.ttlSeconds, rows: new Map() });
      if (!t || t.ttlSeconds === spec.ttlSeconds) return { ...spec, created: !t, ttlUpdated: false };
      if (options?.onTtlMismatch !== 'update') throw new TableIncompatibleError(`${spec.table} has TTL ${t.ttlSeconds}, wanted ${spec.ttlSeconds}`);
      t.ttlSeconds = spec.ttlSeconds;
      return { ...spec, created: false, ttlUpdated: true };
    },
    async append(name: string, rows: readonly AppendRow[]) {
      const t = table(name);
      return rows.map((row) => {
        const list = t.rows.get(row.timelineId) ?? [];
        t.rows.set(row.timelineId, list);
        const seq = (list.at(-1)?.seq ?? firstSeq - 1n) + 1n;
        list.push({ ...row, payload: row.payload.slice(), seq, writtenAt: now() });
        return { ok: true as const, seq };
      });
    },
    async get(name: string, timelineId: string, seq: bigint) {
      const row = live(name, timelineId).find((r) => r.seq === seq);
      return row && { ...row, payload: row.payload.slice() };
    },
    async scan(name: string, { timelineId, from, to, direction, limit }: ScanPageRequest) {
      const forward = direction === 'forward';
      const inRange = (s: bigint) => (forward ? (from === undefined || s >= from) && (to === undefined || s < to) : (from === undefined || s <= from) && (to === undefined || s > to));
      const rows = live(name, timelineId).filter((r) => inRange(r.seq));
      if (!forward) rows.reverse();
      const page = rows.slice(0, limit).map((r) => ({ ...r, payload: r.payload.slice() }));
      return rows.length > limit ? { rows: page, next: rows[limit]!.seq } : { rows: page };
    },
    async close() {
      tables.clear();
    },
  };
}

describeBackendContract(
  { describe, it: (name, fn) => it(name, fn), afterAll: (fn) => after(fn) },
  { name: 'arrayBackend (examples/custom-backend.ts)', createBackend: ({ now, firstSeq }) => new GuardedBackend(arrayBackend(now, firstSeq)) },
);
