/**
 * The emulator's in-memory data model: tables, rows kept in primary-key order, multi-version
 * cells, and the deterministic mutations that every API (and log replay) goes through.
 *
 * Rows live in {@link Table} (table.ts). Mutations never consult the clock: timestamps and generated keys are resolved before a
 * mutation is applied, so replaying the persistence log reproduces the same state. TTL is applied
 * when reading.
 *
 * @packageDocumentation
 */
import type { PlainValue } from '../codec/plain-buffer-format.js';
import { STRIDE, type FlatCells } from './stored-row.js';

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

/** A stored row. `cells` holds every version of every column, flat (see {@link FlatCells}). */
export interface StoredRow {
  readonly pk: readonly PkValue[];
  cells: FlatCells;
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
  // Rows of a partition share its key Buffer: the same object needs no native compare.
  if (a === b) return 0;
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

/**
 * A stable key for a primary key. Persisted (auto-increment partitions in the log), so its
 * format never changes; {@link rowKey} is the cheaper in-memory key.
 */
export function pkKey(pk: readonly PkValue[]): string {
  return pk.map((v) => (typeof v === 'bigint' ? `i${v}` : `b${v.toString('base64')}`)).join('|');
}

/**
 * An in-memory map key for a primary key: injective (byte strings are length-prefixed, so no
 * separator can be forged) and cheaper than {@link pkKey}'s base64. Never persisted.
 */
export function rowKey(pk: readonly PkValue[]): string {
  let key = '';
  for (let i = 0; i < pk.length; i++) {
    const v = pk[i] as PkValue;
    key += typeof v === 'bigint' ? `i${v}|` : `b${v.length}:${v.toString('latin1')}|`;
  }
  return key;
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

/**
 * True when the row has a live marker or a live version among each column's newest
 * `maxVersions` (the rule every read and condition applies).
 */
export function isRowVisible(row: StoredRow, opts: TableOptionsDef, now: bigint): boolean {
  if (row.marker !== undefined && isAlive(row.marker, opts.timeToLive, now)) return true;
  const cells = row.cells;
  let name: unknown;
  let taken = 0;
  for (let i = 0; i < cells.length; i += STRIDE) {
    if (cells[i] !== name) {
      name = cells[i];
      taken = 0;
    }
    if (taken++ < opts.maxVersions && isAlive(cells[i + 1] as bigint, opts.timeToLive, now)) return true;
  }
  return false;
}
