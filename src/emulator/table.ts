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
import { columnMap, flatten, flattenDistinct, type BareValue } from './stored-row.js';

interface AutoIncrementEntry {
  readonly first: PkValue;
  value: bigint;
}

/** Bound of the by-value caches: past it they are emptied and refilled. */
const VALUE_CACHE_SIZE = 10_000;
/** Longest string value {@link Table} shares between rows. */
const SHORT_VALUE_CHARS = 16;

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
  #size = 0;
  readonly #parts: Partition[] = [];
  readonly #partByKey = new Map<string, Partition>();
  // Partitions by the value object itself (a bigint by value, a Buffer by identity): decodePk
  // hands out one shared Buffer per recent string key, so most lookups skip building the string
  // key. Cleared whenever a partition goes away, so it never points at a removed one.
  readonly #partByValue = new Map<PkValue, Partition>();
  /** Last auto-increment value per partition, by {@link rowKey} of the partition value. */
  readonly #autoIncrement = new Map<string, AutoIncrementEntry>();
  // The same entries by value object; entries are never removed, so this never goes stale.
  readonly #autoIncrementByValue = new Map<PkValue, AutoIncrementEntry>();
  readonly #autoIncrementIndex: number;

  // One copy of each column name for all rows (bounded: names are not evicted).
  readonly #names = new Map<string, string>();
  readonly #intern = (name: string): string => {
    const shared = this.#names.get(name);
    if (shared !== undefined) return shared;
    if (this.#names.size < 10_000) this.#names.set(name, name);
    return name;
  };

  // One copy of each short string value (kinds, states, flags repeat across rows): one object
  // less per stored row for the GC to copy to the old generation. Bounded, emptied when full.
  readonly #shortValues = new Map<string, string>();
  readonly #internValue = (v: BareValue): BareValue => {
    if (typeof v !== 'string' || v.length > SHORT_VALUE_CHARS) return v;
    const shared = this.#shortValues.get(v);
    if (shared !== undefined) return shared;
    if (this.#shortValues.size >= VALUE_CACHE_SIZE) this.#shortValues.clear();
    this.#shortValues.set(v, v);
    return v;
  };

  constructor(def: TableDef) {
    this.def = def;
    // The primary key never changes after CreateTable.
    this.#autoIncrementIndex = def.primaryKey.findIndex((c) => c.autoIncrement);
  }

  /** Number of stored rows (visible or not). */
  get size(): number {
    return this.#size;
  }

  /** Index of the auto-increment column, or -1. */
  get autoIncrementIndex(): number {
    return this.#autoIncrementIndex;
  }

  /** The stored row with this primary key, if any. */
  get(pk: readonly PkValue[]): StoredRow | undefined {
    const p = this.#partition(pk[0] as PkValue, false);
    if (!p) return undefined;
    const rows = p.rows;
    const last = rows[rows.length - 1];
    // New auto-increment keys sort after every stored row: one comparison settles it.
    if (last === undefined || comparePk(last.pk, pk) < 0) return undefined;
    const row = rows[lowerBound(rows, pk)];
    return row !== undefined && comparePk(row.pk, pk) === 0 ? row : undefined;
  }

  /** Every stored row, in primary-key order. */
  *rows(): Generator<StoredRow> {
    for (const p of this.#parts) yield* p.rows;
  }

  #partition(first: PkValue, create: boolean): Partition | undefined {
    const cached = this.#partByValue.get(first);
    if (cached !== undefined) return cached;
    const key = this.#partKey(first);
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
    if (p) {
      if (this.#partByValue.size >= VALUE_CACHE_SIZE) this.#partByValue.clear();
      this.#partByValue.set(first, p);
    }
    return p;
  }

  #insert(row: StoredRow): void {
    this.#size++;
    const p = this.#partition(row.pk[0] as PkValue, true) as Partition;
    // Rows of one partition share its first key value (equal bytes): one object per partition
    // instead of one per row for the GC to keep copying.
    if (row.pk[0] !== p.first) (row.pk as PkValue[])[0] = p.first;
    const rows = p.rows;
    const last = rows[rows.length - 1];
    // Appends at the tail are the common case (auto-increment keys): skip the search.
    if (last === undefined || comparePk(last.pk, row.pk) < 0) rows.push(row);
    else rows.splice(lowerBound(rows, row.pk), 0, row);
  }

  #remove(row: StoredRow): void {
    this.#size--;
    const p = this.#partition(row.pk[0] as PkValue, false);
    if (!p) return;
    const i = lowerBound(p.rows, row.pk);
    if (p.rows[i] === row) p.rows.splice(i, 1);
    if (p.rows.length === 0) {
      this.#partByKey.delete(p.key);
      this.#partByValue.clear();
      this.#parts.splice(this.#parts.indexOf(p), 1);
    }
  }

  // The key of the last partition value seen, by identity: one write resolves, applies and
  // counts the same value object several times.
  #memoFirst: PkValue | undefined;
  #memoKey = '';

  #partKey(first: PkValue): string {
    if (first !== this.#memoFirst) {
      this.#memoFirst = first;
      this.#memoKey = rowKey([first]);
    }
    return this.#memoKey;
  }

  /** The last auto-increment value handed out or written in the partition of `first`. */
  lastAutoIncrement(first: PkValue): bigint | undefined {
    return this.#autoIncrementEntry(first)?.value;
  }

  /** Raises the partition's counter to `value` (never lowers it). */
  raiseAutoIncrement(first: PkValue, value: bigint): void {
    const e = this.#autoIncrementEntry(first);
    if (!e) {
      const created = { first, value };
      this.#autoIncrement.set(this.#partKey(first), created);
      this.#cacheAutoIncrement(first, created);
    } else if (value > e.value) e.value = value;
  }

  #autoIncrementEntry(first: PkValue): AutoIncrementEntry | undefined {
    const cached = this.#autoIncrementByValue.get(first);
    if (cached !== undefined) return cached;
    const e = this.#autoIncrement.get(this.#partKey(first));
    if (e !== undefined) this.#cacheAutoIncrement(first, e);
    return e;
  }

  #cacheAutoIncrement(first: PkValue, e: AutoIncrementEntry): void {
    if (this.#autoIncrementByValue.size >= VALUE_CACHE_SIZE) this.#autoIncrementByValue.clear();
    this.#autoIncrementByValue.set(first, e);
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
    const existing = this.get(w.pk);
    this.#bumpAutoIncrement(w.pk);
    const maxVersions = this.def.options.maxVersions;
    switch (w.kind) {
      case 'delete':
        if (existing) this.#remove(existing);
        return;
      case 'put': {
        let cells = flattenDistinct(w.cells, this.#intern, this.#internValue);
        if (cells === undefined) {
          // A name given more than once: merge its versions as the service does.
          const columns = new Map<string, CellVersion[]>();
          for (const c of w.cells) {
            let versions = columns.get(c.name);
            if (!versions) columns.set(c.name, (versions = []));
            insertVersion(versions, { ts: c.ts, value: c.value }, maxVersions);
          }
          cells = flatten(columns, this.#intern);
        }
        const row: StoredRow = { pk: w.pk, cells, marker: w.cells.length === 0 ? w.ts : undefined };
        if (existing) this.#replace(existing, row);
        else this.#insert(row);
        return;
      }
      case 'update': {
        // Updates are rare next to puts: edit a column map, then store it flat again.
        const columns = existing ? columnMap(existing.cells) : new Map<string, CellVersion[]>();
        for (const op of w.ops) {
          if (op.op === 'put') {
            let versions = columns.get(op.name);
            if (!versions) columns.set(op.name, (versions = []));
            insertVersion(versions, { ts: op.ts, value: op.value }, maxVersions);
          } else if (op.op === 'deleteAll') {
            columns.delete(op.name);
          } else {
            const versions = columns.get(op.name);
            if (versions) {
              const i = versions.findIndex((v) => v.ts === op.ts);
              if (i >= 0) versions.splice(i, 1);
              if (versions.length === 0) columns.delete(op.name);
            }
          }
        }
        const empty = columns.size === 0 && existing?.marker === undefined;
        if (existing && empty) this.#remove(existing);
        else if (existing) existing.cells = flatten(columns, this.#intern);
        else if (!empty) this.#insert({ pk: w.pk, cells: flatten(columns, this.#intern), marker: undefined });
        return;
      }
    }
  }

  /** Swaps a stored row for a new one with the same key, in place. */
  #replace(existing: StoredRow, row: StoredRow): void {
    const p = this.#partition(row.pk[0] as PkValue, false) as Partition;
    p.rows[lowerBound(p.rows, row.pk)] = row;
  }

  /** Restores a row verbatim (log compaction snapshots). */
  restore(row: { pk: readonly PkValue[]; cells: ReadonlyMap<string, readonly CellVersion[]>; marker: bigint | undefined }): void {
    const existing = this.get(row.pk);
    if (existing) this.#remove(existing);
    this.#bumpAutoIncrement(row.pk);
    this.#insert({ pk: row.pk, cells: flatten(row.cells, this.#intern), marker: row.marker });
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
