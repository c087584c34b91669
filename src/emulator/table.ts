/**
 * A table's rows in primary-key order, with point lookup by key, and the deterministic mutations
 * every API (and log replay) goes through.
 *
 * Rows are kept per partition (first primary-key column), each partition a sorted array, the
 * partitions themselves in key order: a write into one of many interleaved timelines is then an
 * append at its partition's tail (auto-increment keys grow) instead of a splice into one big array.
 *
 * @packageDocumentation
 */
import {
  compareToBound,
  compareValue,
  comparePk,
  pkKey,
  rowKey,
  type BoundValue,
  type CellVersion,
  type PkValue,
  type ResolvedWrite,
  type StoredRow,
  type TableDef,
} from './store.js';

interface Partition {
  readonly first: PkValue;
  readonly key: string;
  readonly rows: StoredRow[];
}

function insertVersion(versions: CellVersion[], v: CellVersion, maxVersions: number): void {
  let i = 0;
  while (i < versions.length && (versions[i] as CellVersion).ts > v.ts) i++;
  if (i < versions.length && (versions[i] as CellVersion).ts === v.ts) versions[i] = v;
  else versions.splice(i, 0, v);
  // Versions beyond max_versions are unreadable: drop them right away.
  if (versions.length > maxVersions) versions.length = maxVersions;
}

/** First index in `rows` whose key is not below `pk`. */
function lowerBound(rows: readonly StoredRow[], pk: readonly PkValue[]): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (comparePk((rows[mid] as StoredRow).pk, pk) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A table's rows in primary-key order, with point lookup by key. */
export class Table {
  def: TableDef;
  readonly #rows = new Map<string, StoredRow>();
  readonly #parts: Partition[] = [];
  readonly #partByKey = new Map<string, Partition>();
  /** Last auto-increment value per partition, by {@link rowKey} of the partition value. */
  readonly #autoIncrement = new Map<string, { readonly first: PkValue; value: bigint }>();
  readonly #autoIncrementIndex: number;

  constructor(def: TableDef) {
    this.def = def;
    // The primary key never changes after CreateTable.
    this.#autoIncrementIndex = def.primaryKey.findIndex((c) => c.autoIncrement);
  }

  /** Number of stored rows (visible or not). */
  get size(): number {
    return this.#rows.size;
  }

  /** Index of the auto-increment column, or -1. */
  get autoIncrementIndex(): number {
    return this.#autoIncrementIndex;
  }

  /** The stored row with this primary key, if any. */
  get(pk: readonly PkValue[]): StoredRow | undefined {
    return this.#rows.get(rowKey(pk));
  }

  /** Every stored row, in primary-key order. */
  *rows(): Generator<StoredRow> {
    for (const p of this.#parts) yield* p.rows;
  }

  #partition(first: PkValue, create: boolean): Partition | undefined {
    const key = rowKey([first]);
    let p = this.#partByKey.get(key);
    if (!p && create) {
      p = { first, key, rows: [] };
      const parts = this.#parts;
      const last = parts[parts.length - 1];
      if (last === undefined || compareValue(last.first, first) < 0) parts.push(p);
      else {
        let lo = 0;
        let hi = parts.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareValue((parts[mid] as Partition).first, first) < 0) lo = mid + 1;
          else hi = mid;
        }
        parts.splice(lo, 0, p);
      }
      this.#partByKey.set(key, p);
    }
    return p;
  }

  #insert(row: StoredRow): void {
    this.#rows.set(row.key, row);
    const rows = (this.#partition(row.pk[0] as PkValue, true) as Partition).rows;
    const last = rows[rows.length - 1];
    // Appends at the tail are the common case (auto-increment keys): skip the search.
    if (last === undefined || comparePk(last.pk, row.pk) < 0) rows.push(row);
    else rows.splice(lowerBound(rows, row.pk), 0, row);
  }

  #remove(row: StoredRow): void {
    this.#rows.delete(row.key);
    const p = this.#partition(row.pk[0] as PkValue, false);
    if (!p) return;
    const i = lowerBound(p.rows, row.pk);
    if (p.rows[i] === row) p.rows.splice(i, 1);
    if (p.rows.length === 0) {
      this.#partByKey.delete(p.key);
      this.#parts.splice(this.#parts.indexOf(p), 1);
    }
  }

  /** The last auto-increment value handed out or written in the partition of `first`. */
  lastAutoIncrement(first: PkValue): bigint | undefined {
    return this.#autoIncrement.get(rowKey([first]))?.value;
  }

  /** Raises the partition's counter to `value` (never lowers it). */
  raiseAutoIncrement(first: PkValue, value: bigint): void {
    const key = rowKey([first]);
    const e = this.#autoIncrement.get(key);
    if (!e) this.#autoIncrement.set(key, { first, value });
    else if (value > e.value) e.value = value;
  }

  /** Every partition's counter, keyed by `pkKey([partition value])` (the persisted format). */
  *autoIncrementCounters(): Generator<[string, bigint]> {
    for (const e of this.#autoIncrement.values()) yield [pkKey([e.first]), e.value];
  }

  #bumpAutoIncrement(pk: readonly PkValue[]): void {
    const idx = this.#autoIncrementIndex;
    if (idx < 0) return;
    const v = pk[idx];
    if (typeof v === 'bigint') this.raiseAutoIncrement(pk[0] as PkValue, v);
  }

  /** Applies one resolved mutation. */
  apply(w: ResolvedWrite): void {
    const key = rowKey(w.pk);
    const existing = this.#rows.get(key);
    this.#bumpAutoIncrement(w.pk);
    const maxVersions = this.def.options.maxVersions;
    switch (w.kind) {
      case 'delete':
        if (existing) this.#remove(existing);
        return;
      case 'put': {
        const row: StoredRow = { pk: w.pk, key, cells: new Map(), marker: w.cells.length === 0 ? w.ts : undefined };
        for (const c of w.cells) {
          let versions = row.cells.get(c.name);
          if (!versions) row.cells.set(c.name, (versions = []));
          insertVersion(versions, { ts: c.ts, value: c.value }, maxVersions);
        }
        if (existing) this.#replace(existing, row);
        else this.#insert(row);
        return;
      }
      case 'update': {
        let row = existing;
        if (!row) row = { pk: w.pk, key, cells: new Map(), marker: undefined };
        for (const op of w.ops) {
          if (op.op === 'put') {
            let versions = row.cells.get(op.name);
            if (!versions) row.cells.set(op.name, (versions = []));
            insertVersion(versions, { ts: op.ts, value: op.value }, maxVersions);
          } else if (op.op === 'deleteAll') {
            row.cells.delete(op.name);
          } else {
            const versions = row.cells.get(op.name);
            if (versions) {
              const i = versions.findIndex((v) => v.ts === op.ts);
              if (i >= 0) versions.splice(i, 1);
              if (versions.length === 0) row.cells.delete(op.name);
            }
          }
        }
        const empty = row.cells.size === 0 && row.marker === undefined;
        if (existing && empty) this.#remove(existing);
        else if (!existing && !empty) this.#insert(row);
        return;
      }
    }
  }

  /** Swaps a stored row for a new one with the same key, in place. */
  #replace(existing: StoredRow, row: StoredRow): void {
    this.#rows.set(row.key, row);
    const p = this.#partition(row.pk[0] as PkValue, false) as Partition;
    p.rows[lowerBound(p.rows, row.pk)] = row;
  }

  /** Restores a row verbatim (log compaction snapshots). */
  restore(row: { pk: readonly PkValue[]; cells: ReadonlyMap<string, readonly CellVersion[]>; marker: bigint | undefined }): void {
    const existing = this.get(row.pk);
    if (existing) this.#remove(existing);
    this.#bumpAutoIncrement(row.pk);
    const cells = new Map<string, CellVersion[]>();
    for (const [name, versions] of row.cells) cells.set(name, [...versions]);
    this.#insert({ pk: row.pk, key: rowKey(row.pk), cells, marker: row.marker });
  }

  /**
   * Rows in `[start, end)` going forward, or `(end, start]` going backward, in scan order.
   * The iterator is lazy so that a page stops reading as soon as it is full.
   */
  *scan(start: readonly BoundValue[], end: readonly BoundValue[], backward: boolean): Generator<StoredRow> {
    const parts = this.#parts;
    const first = [start[0] as BoundValue];
    if (!backward) {
      // First partition that may hold a row at or after `start`.
      let lo = 0;
      let hi = parts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareToBound([(parts[mid] as Partition).first], first) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (let p = lo; p < parts.length; p++) {
        const rows = (parts[p] as Partition).rows;
        let i = 0;
        if (p === lo) {
          let a = 0;
          let b = rows.length;
          while (a < b) {
            const mid = (a + b) >>> 1;
            if (compareToBound((rows[mid] as StoredRow).pk, start) < 0) a = mid + 1;
            else b = mid;
          }
          i = a;
        }
        for (; i < rows.length; i++) {
          const row = rows[i] as StoredRow;
          if (compareToBound(row.pk, end) >= 0) return;
          yield row;
        }
      }
    } else {
      // Last partition that may hold a row at or before `start`.
      let lo = 0;
      let hi = parts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareToBound([(parts[mid] as Partition).first], first) <= 0) lo = mid + 1;
        else hi = mid;
      }
      for (let p = lo - 1; p >= 0; p--) {
        const rows = (parts[p] as Partition).rows;
        let i = rows.length - 1;
        if (p === lo - 1) {
          let a = 0;
          let b = rows.length;
          while (a < b) {
            const mid = (a + b) >>> 1;
            if (compareToBound((rows[mid] as StoredRow).pk, start) <= 0) a = mid + 1;
            else b = mid;
          }
          i = a - 1;
        }
        for (; i >= 0; i--) {
          const row = rows[i] as StoredRow;
          if (compareToBound(row.pk, end) <= 0) return;
          yield row;
        }
      }
    }
  }
}
