/**
 * The emulator's in-memory data model: tables, rows kept in primary-key order, multi-version
 * cells, and the deterministic mutations that every API (and log replay) goes through.
 *
 * Mutations here never consult the clock: timestamps and generated keys are resolved before a
 * mutation is applied, so replaying the persistence log reproduces the same state. TTL is applied
 * when reading.
 *
 * @packageDocumentation
 */
import type { PlainValue } from './plain-buffer.js';

/** Primary-key column types. */
export type PkType = 'INTEGER' | 'STRING' | 'BINARY';

/** One primary-key column of a table schema. */
export interface PkColumnDef {
  readonly name: string;
  readonly type: PkType;
  readonly autoIncrement: boolean;
}

/** A defined (pre-declared) attribute column; stored and described, never enforced. */
export interface DefinedColumnDef {
  readonly name: string;
  readonly type: number;
}

/** Table options that UpdateTable may change. */
export interface TableOptionsDef {
  /** Seconds; -1 keeps data forever. */
  readonly timeToLive: number;
  readonly maxVersions: number;
  /** Seconds; bounds user-supplied cell timestamps around the current time. */
  readonly deviationCellVersionInSec: bigint;
  readonly allowUpdate: boolean;
}

/**
 * A table's stream, as CreateTable or UpdateTable enabled it. Only stored and described: the
 * emulator produces no stream records.
 */
export interface StreamDef {
  readonly streamId: string;
  /** Hours the service would keep stream records. */
  readonly expirationTime: number;
  /** When the stream was enabled, in milliseconds since the epoch. */
  readonly lastEnableTime: bigint;
}

/** Everything the emulator knows about a table besides its rows. */
export interface TableDef {
  readonly name: string;
  readonly primaryKey: readonly PkColumnDef[];
  readonly definedColumns: readonly DefinedColumnDef[];
  readonly options: TableOptionsDef;
  readonly reservedRead: number;
  readonly reservedWrite: number;
  /** Seconds since the epoch. */
  readonly lastIncreaseTime: bigint;
  /** Seconds since the epoch. */
  readonly lastDecreaseTime?: bigint | undefined;
  /** The stream, when enabled. */
  readonly stream?: StreamDef | undefined;
}

/** A primary-key value inside the store: INTEGER as `bigint`, STRING (UTF-8) and BINARY as bytes. */
export type PkValue = bigint | Buffer;

/** Attribute values the store keeps. */
export type AttrValue = Extract<PlainValue, { type: 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'STRING' | 'BINARY' }>;

/** One version of one cell. */
export interface CellVersion {
  readonly ts: bigint;
  readonly value: AttrValue;
}

/** A stored row. `cells` maps a column name to its versions, newest first. */
export interface StoredRow {
  readonly pk: readonly PkValue[];
  readonly key: string;
  readonly cells: Map<string, CellVersion[]>;
  /**
   * Write time of a PutRow that carried no attribute column. Such a primary-key-only row is
   * visible while this timestamp is within the table's TTL.
   */
  marker: bigint | undefined;
}

/** A range bound: a value per primary-key column, or the INF_MIN / INF_MAX sentinels. */
export type BoundValue = PkValue | 'min' | 'max';

/** A put of one attribute version, resolved (timestamp known). */
export interface ResolvedCell {
  readonly name: string;
  readonly value: AttrValue;
  readonly ts: bigint;
}

/** One column change of an UpdateRow, resolved. INCREMENT is resolved into a `put`. */
export type ResolvedUpdateOp =
  | { readonly op: 'put'; readonly name: string; readonly value: AttrValue; readonly ts: bigint }
  | { readonly op: 'deleteOne'; readonly name: string; readonly ts: bigint }
  | { readonly op: 'deleteAll'; readonly name: string };

/** A row mutation with every timestamp and generated key resolved. */
export type ResolvedWrite =
  | { readonly kind: 'put'; readonly pk: readonly PkValue[]; readonly cells: readonly ResolvedCell[]; readonly ts: bigint }
  | { readonly kind: 'update'; readonly pk: readonly PkValue[]; readonly ops: readonly ResolvedUpdateOp[] }
  | { readonly kind: 'delete'; readonly pk: readonly PkValue[] };

/** Compares two primary-key values of the same column type (bytes compare unsigned, like the service). */
export function compareValue(a: PkValue, b: PkValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b);
  throw new TypeError('primary-key values of different types');
}

/** Compares two full primary keys column by column. */
export function comparePk(a: readonly PkValue[], b: readonly PkValue[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValue(a[i] as PkValue, b[i] as PkValue);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Compares a row key with a range bound (INF_MIN is below every value, INF_MAX above). */
export function compareToBound(pk: readonly PkValue[], bound: readonly BoundValue[]): number {
  for (let i = 0; i < bound.length; i++) {
    const b = bound[i] as BoundValue;
    if (b === 'min') return 1;
    if (b === 'max') return -1;
    const c = compareValue(pk[i] as PkValue, b);
    if (c !== 0) return c;
  }
  return 0;
}

function rank(v: BoundValue): number {
  return v === 'min' ? 0 : v === 'max' ? 2 : 1;
}

/** Compares two range bounds. */
export function compareBounds(a: readonly BoundValue[], b: readonly BoundValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as BoundValue;
    const y = b[i] as BoundValue;
    const rx = rank(x);
    const ry = rank(y);
    if (rx !== ry) return rx - ry;
    if (rx !== 1) return 0;
    const c = compareValue(x as PkValue, y as PkValue);
    if (c !== 0) return c;
  }
  return 0;
}

/** A stable map key for a primary key. */
export function pkKey(pk: readonly PkValue[]): string {
  return pk.map((v) => (typeof v === 'bigint' ? `i${v}` : `b${v.toString('base64')}`)).join('|');
}

/** `true` when a cell version written at `ts` is still alive at `now` under `ttlSeconds`. */
export function isAlive(ts: bigint, ttlSeconds: number, now: bigint): boolean {
  return ttlSeconds < 0 || ts + BigInt(ttlSeconds) * 1000n > now;
}

/** Versions readable now: the newest `maxVersions` of the table, minus expired ones. */
export function readableVersions(versions: readonly CellVersion[], opts: TableOptionsDef, now: bigint): CellVersion[] {
  const out: CellVersion[] = [];
  const n = Math.min(versions.length, opts.maxVersions);
  for (let i = 0; i < n; i++) {
    const v = versions[i] as CellVersion;
    if (isAlive(v.ts, opts.timeToLive, now)) out.push(v);
  }
  return out;
}

/** A row exists for reads and conditions when it has a readable cell or a live primary-key-only marker. */
export function isRowVisible(row: StoredRow, opts: TableOptionsDef, now: bigint): boolean {
  if (row.marker !== undefined && isAlive(row.marker, opts.timeToLive, now)) return true;
  for (const versions of row.cells.values()) {
    if (readableVersions(versions, opts, now).length > 0) return true;
  }
  return false;
}

function insertVersion(versions: CellVersion[], v: CellVersion, maxVersions: number): void {
  let i = 0;
  while (i < versions.length && (versions[i] as CellVersion).ts > v.ts) i++;
  if (i < versions.length && (versions[i] as CellVersion).ts === v.ts) versions[i] = v;
  else versions.splice(i, 0, v);
  // Versions beyond max_versions are unreadable: drop them right away.
  if (versions.length > maxVersions) versions.length = maxVersions;
}

/** A table's rows in primary-key order, with point lookup by key. */
export class Table {
  def: TableDef;
  readonly #rows = new Map<string, StoredRow>();
  readonly #sorted: StoredRow[] = [];
  /** Last auto-increment value per partition key (`pkKey([partitionValue])`). */
  readonly autoIncrement = new Map<string, bigint>();

  constructor(def: TableDef) {
    this.def = def;
  }

  /** Number of stored rows (visible or not). */
  get size(): number {
    return this.#rows.size;
  }

  /** Index of the auto-increment column, or -1. */
  get autoIncrementIndex(): number {
    return this.def.primaryKey.findIndex((c) => c.autoIncrement);
  }

  /** The stored row with this primary key, if any. */
  get(pk: readonly PkValue[]): StoredRow | undefined {
    return this.#rows.get(pkKey(pk));
  }

  /** Every stored row, in primary-key order. */
  rows(): readonly StoredRow[] {
    return this.#sorted;
  }

  #lowerBound(pk: readonly PkValue[]): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePk((this.#sorted[mid] as StoredRow).pk, pk) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(row: StoredRow): void {
    this.#rows.set(row.key, row);
    const last = this.#sorted[this.#sorted.length - 1];
    // Appends at the tail are the common case (auto-increment keys): skip the search.
    if (last === undefined || comparePk(last.pk, row.pk) < 0) this.#sorted.push(row);
    else this.#sorted.splice(this.#lowerBound(row.pk), 0, row);
  }

  #remove(row: StoredRow): void {
    this.#rows.delete(row.key);
    const i = this.#lowerBound(row.pk);
    if (this.#sorted[i] === row) this.#sorted.splice(i, 1);
  }

  #bumpAutoIncrement(pk: readonly PkValue[]): void {
    const idx = this.autoIncrementIndex;
    if (idx < 0) return;
    const v = pk[idx];
    if (typeof v !== 'bigint') return;
    const part = pkKey([pk[0] as PkValue]);
    const last = this.autoIncrement.get(part);
    if (last === undefined || v > last) this.autoIncrement.set(part, v);
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
        if (existing) this.#remove(existing);
        const row: StoredRow = { pk: w.pk, key: pkKey(w.pk), cells: new Map(), marker: w.cells.length === 0 ? w.ts : undefined };
        for (const c of w.cells) {
          let versions = row.cells.get(c.name);
          if (!versions) row.cells.set(c.name, (versions = []));
          insertVersion(versions, { ts: c.ts, value: c.value }, maxVersions);
        }
        this.#insert(row);
        return;
      }
      case 'update': {
        let row = existing;
        if (!row) row = { pk: w.pk, key: pkKey(w.pk), cells: new Map(), marker: undefined };
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

  /** Restores a row verbatim (log compaction snapshots). */
  restore(row: { pk: readonly PkValue[]; cells: ReadonlyMap<string, readonly CellVersion[]>; marker: bigint | undefined }): void {
    const existing = this.get(row.pk);
    if (existing) this.#remove(existing);
    this.#bumpAutoIncrement(row.pk);
    const cells = new Map<string, CellVersion[]>();
    for (const [name, versions] of row.cells) cells.set(name, [...versions]);
    this.#insert({ pk: row.pk, key: pkKey(row.pk), cells, marker: row.marker });
  }

  /**
   * Rows in `[start, end)` going forward, or `(end, start]` going backward, in scan order.
   * The iterator is lazy so that a page stops reading as soon as it is full.
   */
  *scan(start: readonly BoundValue[], end: readonly BoundValue[], backward: boolean): Generator<StoredRow> {
    const rows = this.#sorted;
    if (!backward) {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareToBound((rows[mid] as StoredRow).pk, start) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < rows.length; i++) {
        const row = rows[i] as StoredRow;
        if (compareToBound(row.pk, end) >= 0) return;
        yield row;
      }
    } else {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareToBound((rows[mid] as StoredRow).pk, start) <= 0) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo - 1; i >= 0; i--) {
        const row = rows[i] as StoredRow;
        if (compareToBound(row.pk, end) <= 0) return;
        yield row;
      }
    }
  }
}
