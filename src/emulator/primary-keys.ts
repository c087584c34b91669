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
    const bytes = v.type === 'STRING' ? Buffer.from(v.value, 'utf8') : v.value;
    if (bytes.length > LIMITS.primaryKeyValueBytes) {
      throw invalid(`The length of primary key column: '${col.name}' exceeds the MaxLength:${LIMITS.primaryKeyValueBytes} with CurrentLength:${bytes.length}.`);
    }
    // A STRING's bytes are fresh; a BINARY is copied so the stored key never aliases the request.
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
    const last = t.lastAutoIncrement(first);
    // Strictly increasing per partition and never consecutive, shaped like a microsecond clock.
    const gap = 1n + BigInt(Math.floor(db.opts.random() * 64));
    let next = (last ?? 0n) + 1n + gap;
    const clockLike = db.opts.now() * 1000n + BigInt(Math.floor(db.opts.random() * 1000));
    if (clockLike > next) next = clockLike;
    const floor = db.opts.autoIncrementStart ?? 1n;
    if (next < floor) next = floor + gap;
    if (next > INT64_MAX) throw new OtsError('OTSInternalServerError', 'The auto-increment column overflowed.');
    t.raiseAutoIncrement(first, next);
    return next;
  });
}
