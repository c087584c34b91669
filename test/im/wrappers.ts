// Backend wrappers for the IM tests. They work over any TimelineBackend, so the scenarios run the
// same on every backend in ./backends.ts.
import {
  BackendError,
  WriteUncertainError,
  type AppendRow,
  type AppendRowResult,
  type BackendAppendOptions,
  type ScanPage,
  type ScanPageRequest,
  type StoredRow,
  type TimelineBackend,
} from '../../src/index.js';
import { PassThroughBackend } from '../../src/testing/index.js';

/**
 * Maps every seq s of the inner backend to s * step + offset: seqs become sparse and larger than
 * 2^53, like TableStore's auto-increment values, so that code assuming consecutive or small seqs
 * fails.
 */
export class SparseSeqBackend extends PassThroughBackend {
  readonly #step: bigint;
  readonly #offset: bigint;

  constructor(inner: TimelineBackend, step = 7919n, offset = 2n ** 53n + 12_345n) {
    super(inner);
    this.#step = step;
    this.#offset = offset;
  }

  override async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    const results = await this.inner.append(table, rows, options);
    return results.map((r) => (r.ok ? { ok: true, seq: this.#out(r.seq) } : r));
  }

  override async get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    const d = seq - this.#offset;
    if (d < 0n || d % this.#step !== 0n) return undefined;
    const row = await this.inner.get(table, timelineId, d / this.#step, options);
    return row === undefined ? undefined : { ...row, seq: this.#out(row.seq) };
  }

  override async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    let from: bigint | undefined;
    let to: bigint | undefined;
    if (request.direction === 'forward') {
      if (request.from !== undefined) from = max0(ceilDiv(request.from - this.#offset, this.#step));
      if (request.to !== undefined) {
        to = ceilDiv(request.to - this.#offset, this.#step);
        if (to <= (from ?? 0n)) return { rows: [] };
      }
    } else {
      if (request.from !== undefined) {
        from = floorDiv(request.from - this.#offset, this.#step);
        if (from < 0n) return { rows: [] };
      }
      if (request.to !== undefined) {
        const low = floorDiv(request.to - this.#offset, this.#step);
        if (low >= 0n) to = low;
        if (from !== undefined && to !== undefined && from <= to) return { rows: [] };
      }
    }
    const { from: _f, to: _t, ...rest } = request;
    const page = await this.inner.scan(table, { ...rest, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
    const rows = page.rows.map((row) => ({ ...row, seq: this.#out(row.seq) }));
    return page.next === undefined ? { rows } : { rows, next: this.#out(page.next) };
  }

  override get mutations(): TimelineBackend['mutations'] {
    const inner = this.inner.mutations;
    if (inner === undefined) return undefined;
    // A seq this wrapper never handed out names no entry: an update of it is NOT_FOUND.
    return {
      update: async (table, timelineId, seq, payload, options) => {
        const d = this.#in(seq);
        return inner.update(table, timelineId, d ?? -1n, payload, options);
      },
      delete: async (table, timelineId, seq, options) => {
        const d = this.#in(seq);
        if (d !== undefined) await inner.delete(table, timelineId, d, options);
      },
    };
  }

  #in(seq: bigint): bigint | undefined {
    const d = seq - this.#offset;
    return d < 0n || d % this.#step !== 0n ? undefined : d / this.#step;
  }

  #out(seq: bigint): bigint {
    return seq * this.#step + this.#offset;
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

function max0(v: bigint): bigint {
  return v < 0n ? 0n : v;
}

/** What {@link FaultyBackend} does with a row: write it, fail it unwritten, or write it and report an ambiguous failure. */
export type RowFault = 'fail' | 'ambiguous' | undefined;

/**
 * Injects per-row failures into any backend. `fault(row, table)` decides per row: `'fail'` reports
 * a retryable `BackendError` without writing; `'ambiguous'` writes the row but reports a
 * `WriteUncertainError` (a lost response). Also counts append requests and rows.
 */
export class FaultyBackend extends PassThroughBackend {
  /** Decides each row's fate; replace it at will. */
  fault: (row: AppendRow, table: string) => RowFault = () => undefined;
  /** Makes scans of matching timelines fail. */
  failScan: (table: string, timelineId: string) => boolean = () => false;
  /** Makes a whole append request fail (nothing written). */
  failCall: (rows: readonly AppendRow[], table: string) => boolean = () => false;
  /** Rows per append request, in order. */
  readonly appendCalls: number[] = [];
  /** Most append requests in flight at once so far. */
  maxInFlight = 0;
  #inFlight = 0;

  override async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    this.appendCalls.push(rows.length);
    this.#inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    try {
      // Let other requests start, so that concurrency is observable.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failCall(rows, table)) {
        throw new BackendError('injected request failure', { backendCode: 'OTSServerBusy', retryable: true, table });
      }
      return await this.#appendRows(table, rows, options);
    } finally {
      this.#inFlight -= 1;
    }
  }

  async #appendRows(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    const faults = rows.map((row) => this.fault(row, table));
    const applied = rows.filter((_, i) => faults[i] !== 'fail');
    const innerResults = applied.length === 0 ? [] : await this.inner.append(table, applied, options);
    let j = 0;
    return rows.map((row, i): AppendRowResult => {
      const fault = faults[i];
      if (fault === 'fail') {
        return { ok: false, error: new BackendError(`injected failure for ${row.timelineId}`, { backendCode: 'OTSServerBusy', retryable: true, table }) };
      }
      const result = innerResults[j++]!;
      if (fault === 'ambiguous' && result.ok) {
        return { ok: false, error: new WriteUncertainError(`injected lost response for ${row.timelineId}`, { backendCode: 'OTSTimeout', table }) };
      }
      return result;
    });
  }

  override async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    if (this.failScan(table, request.timelineId)) {
      throw new BackendError(`injected scan failure for ${request.timelineId}`, { backendCode: 'OTSServerBusy', retryable: true, table });
    }
    return this.inner.scan(table, request);
  }
}
