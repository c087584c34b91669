/**
 * Primary keys: schema checks (size, names, types, value sizes), range-bound sentinels, and the
 * auto-increment placeholder resolved into a new value of the partition's counter.
 *
 * @packageDocumentation
 */
import type { Db } from './context.js';
import { invalid, OtsError } from './errors.js';
import { LIMITS } from './limits.js';
import type { PlainCell, PlainRow } from '../codec/plain-buffer-format.js';
import type { PkValue, TableDef } from './store.js';
import type { Table } from './table.js';
import { INT64_MAX, VT_NAME } from './wire.js';

/** A decoded primary-key value, or a placeholder: auto-increment, INF_MIN, INF_MAX. */
export type PkSlot = PkValue | 'auto' | 'min' | 'max';
/** Which placeholders a primary key may hold. */
export type PkMode = 'read' | 'write' | 'bound';

// One shared Buffer per recent short string key: rows of one timeline repeat its key, and a
// shared object lets tables find the partition by identity instead of building a string key.
// Key Buffers are never written to, so sharing them is safe.
const STRING_KEYS = new Map<string, Buffer>();
const STRING_KEYS_MAX = 4096;
const STRING_KEY_CHARS = 128;

function stringKeyBytes(s: string): Buffer {
  if (s.length > STRING_KEY_CHARS) return Buffer.from(s, 'utf8');
  let b = STRING_KEYS.get(s);
  if (b === undefined) {
    if (STRING_KEYS.size >= STRING_KEYS_MAX) STRING_KEYS.clear();
    b = Buffer.from(s, 'utf8');
    STRING_KEYS.set(s, b);
  }
  return b;
}

/**
 * Checks a row's primary-key cells against the schema: size, names and order, types, value sizes.
 * `mode` says which placeholders are allowed: INF_MIN/INF_MAX in range bounds, AUTO_INCREMENT in writes.
 */
export function decodePk(def: TableDef, cells: readonly PlainCell[], mode: PkMode): PkSlot[] {
  const schema = def.primaryKey;
  if (cells.length !== schema.length) {
    throw new OtsError('OTSInvalidPK', `Validate PK size fail. Input: ${cells.length}, Meta: ${schema.length}.`);
  }
  return schema.map((col, i) => {
    const cell = cells[i] as PlainCell;
    if (cell.name !== col.name) throw new OtsError('OTSInvalidPK', `Validate PK name fail. Input: ${cell.name}, Meta: ${col.name}.`);
    if (cell.op !== undefined || cell.timestamp !== undefined) throw invalid(`The primary key column '${col.name}' cannot carry a timestamp or an operation.`);
    const v = cell.value;
    if (!v) throw invalid(`The primary key column '${col.name}' has no value.`);
    if (v.type === 'INF_MIN' || v.type === 'INF_MAX') {
      if (mode !== 'bound') throw invalid(`INF_MIN and INF_MAX are only allowed in range bounds (column '${col.name}').`);
      return v.type === 'INF_MIN' ? 'min' : 'max';
    }
    if (v.type === 'AUTO_INCREMENT') {
      if (!col.autoIncrement) throw invalid(`The primary key column '${col.name}' is not an auto-increment column.`);
      if (mode !== 'write') throw invalid(`The auto-increment placeholder is only allowed when writing a row (column '${col.name}').`);
      return 'auto';
    }
    const expected = col.type === 'BINARY' ? 'BINARY' : col.type;
    if (v.type !== expected) throw new OtsError('OTSInvalidPK', `Validate PK type fail. Input: ${VT_NAME[v.type]}, Meta: ${VT_NAME[expected]}.`);
    if (v.type === 'INTEGER') return v.value;
    const bytes = v.type === 'STRING' ? stringKeyBytes(v.value) : v.value;
    if (bytes.length > LIMITS.primaryKeyValueBytes) {
      throw invalid(`The length of primary key column: '${col.name}' exceeds the MaxLength:${LIMITS.primaryKeyValueBytes} with CurrentLength:${bytes.length}.`);
    }
    // A STRING's bytes are shared (never written to); a BINARY is copied so the stored key never aliases the request.
    return v.type === 'STRING' ? bytes : Buffer.from(bytes);
  });
}

/** The primary key of a read or a delete: no placeholders. */
export function readPk(def: TableDef, row: PlainRow): PkValue[] {
  return decodePk(def, row.primaryKey, 'read') as PkValue[];
}

/** Replaces the auto-increment placeholder with a new value of the partition's counter. */
export function resolvePk(db: Db, t: Table, slots: readonly PkSlot[]): PkValue[] {
  return slots.map((s) => {
    if (s !== 'auto') return s as PkValue;
    const first = slots[0] as PkValue;
    const next = nextAutoIncrement(db, t.lastAutoIncrement(first));
    t.raiseAutoIncrement(first, next);
    return next;
  });
}

/**
 * The next value after `last`: strictly increasing per partition and never consecutive, shaped
 * like a microsecond clock. Computed in doubles while every term is below 2^53 (always, with
 * real clocks): one bigint per row instead of a handful.
 */
function nextAutoIncrement(db: Db, last: bigint | undefined): bigint {
  const gapDraw = Math.floor(db.opts.random() * 64);
  const now = db.opts.now();
  const jitter = Math.floor(db.opts.random() * 1000);
  const floor = db.opts.autoIncrementStart ?? 1n;
  const lastN = last === undefined ? 0 : Number(last);
  const nowN = Number(now);
  const floorN = Number(floor);
  if (lastN < SAFE && nowN < SAFE / 1000 && floorN < SAFE && lastN > -SAFE && floorN > -SAFE) {
    const gap = 1 + gapDraw;
    let next = lastN + 1 + gap;
    const clockLike = nowN * 1000 + jitter;
    if (clockLike > next) next = clockLike;
    if (next < floorN) next = floorN + gap;
    return BigInt(next);
  }
  const gap = 1n + BigInt(gapDraw);
  let next = (last ?? 0n) + 1n + gap;
  const clockLike = now * 1000n + BigInt(jitter);
  if (clockLike > next) next = clockLike;
  if (next < floor) next = floor + gap;
  if (next > INT64_MAX) throw new OtsError('OTSInternalServerError', 'The auto-increment column overflowed.');
  return next;
}

// Below this every sum above is exact in a double.
const SAFE = 2 ** 52;
