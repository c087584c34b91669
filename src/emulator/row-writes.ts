/**
 * Row writes: PutRow, UpdateRow and DeleteRow, and the per-row logic BatchWriteRow shares with
 * them: row-existence expectations, column conditions, auto-increment keys and returned rows.
 *
 * @packageDocumentation
 */
import { matches, parseFilter } from './conditions.js';
import { tableOf, type Db } from './context.js';
import { invalid, OtsError, unsupported } from './errors.js';
import * as M from '../codec/messages.js';
import type { PlainCell, PlainRow } from '../codec/plain-buffer-format.js';
import { encodeStoredRow } from '../codec/plain-buffer-writer.js';
import { decodePk, readPk, resolvePk, type PkSlot } from './primary-keys.js';
import { putCells, updateOps } from './row-changes.js';
import { isRowVisible, readableVersions, type PkValue, type ResolvedWrite } from './store.js';
import type { Table } from './table.js';
import { capacity, checkRowLimits, cu, decode, encode, parseRow, rowDataSize } from './wire.js';
import { columnVersions } from './stored-row.js';

/** Checks the row-existence expectation, then the column condition; `pk` is `undefined` for a row being created. */
function checkCondition(t: Table, pk: readonly PkValue[] | undefined, cond: { row_existence: number; column_condition?: Buffer | undefined }, now: bigint): void {
  const e = cond.row_existence;
  if (e !== M.RowExistence.IGNORE && e !== M.RowExistence.EXPECT_EXIST && e !== M.RowExistence.EXPECT_NOT_EXIST) {
    throw invalid(`Invalid row existence expectation: ${e}.`);
  }
  const filter = cond.column_condition !== undefined && cond.column_condition.length > 0 ? parseFilter(cond.column_condition, t.def, 'condition') : undefined;
  if (e === M.RowExistence.IGNORE && filter === undefined) return;
  const stored = pk ? t.get(pk) : undefined;
  const row = stored !== undefined && isRowVisible(stored, t.def.options, now) ? stored : undefined;
  if (e !== M.RowExistence.IGNORE && (e === M.RowExistence.EXPECT_EXIST) !== (row !== undefined)) {
    throw new OtsError('OTSConditionCheckFail', 'Condition check failed.');
  }
  if (filter && !matches(filter, (name) => (row ? readableVersions(columnVersions(row.cells, name), t.def.options, now) : undefined))) {
    throw new OtsError('OTSConditionCheckFail', 'Condition check failed.');
  }
}

/** The row a write returns: none, the primary key (RT_PK), or the key and the named columns after the change (RT_AFTER_MODIFY). */
export function returnRow(
  t: Table,
  pk: readonly PkValue[],
  rc: { return_type?: number | undefined; return_column_names: string[] } | undefined,
  now: bigint,
): Buffer | undefined {
  const type = rc?.return_type ?? M.ReturnType.RT_NONE;
  if (type === M.ReturnType.RT_NONE) return undefined;
  if (type !== M.ReturnType.RT_PK && type !== M.ReturnType.RT_AFTER_MODIFY) throw invalid(`Invalid return type: ${type}.`);
  const attributes: PlainCell[] = [];
  if (type === M.ReturnType.RT_AFTER_MODIFY) {
    const row = t.get(pk);
    for (const name of rc?.return_column_names ?? []) {
      const v = row ? readableVersions(columnVersions(row.cells, name), t.def.options, now)[0] : undefined;
      if (v) attributes.push({ name, value: v.value, timestamp: v.ts });
    }
  }
  return encodeStoredRow(t.def.primaryKey, pk, attributes);
}

/**
 * Resolves and checks one row write (conditions included); the caller applies it. `decoded`:
 * the key of a put or update already decoded in write mode, if the caller has it.
 */
export function writeRow(
  db: Db,
  t: Table,
  kind: 'put' | 'update' | 'delete',
  row: PlainRow,
  cond: { row_existence: number; column_condition?: Buffer | undefined },
  now: bigint,
  decoded?: readonly PkSlot[],
): ResolvedWrite {
  const def = t.def;
  if (kind === 'delete') {
    if (row.attributes.length > 0) throw invalid('DeleteRow takes no attribute columns.');
    const pk = readPk(def, row);
    checkCondition(t, pk, cond, now);
    return { kind: 'delete', pk };
  }
  if (row.deleteMarker) throw invalid(`A ${kind === 'put' ? 'PutRow' : 'UpdateRow'} row cannot carry a delete marker.`);
  if (kind === 'update' && !def.options.allowUpdate) throw invalid('UpdateRow is not allowed on this table (allow_update is false).');
  // BatchWriteRow has decoded the key already (to find duplicates): do not decode it twice.
  const slots = decoded ?? decodePk(def, row.primaryKey, 'write');
  const hasAuto = slots.includes('auto');
  if (hasAuto && cond.row_existence !== M.RowExistence.IGNORE) {
    throw invalid('The row existence expectation must be IGNORE when writing with an auto-increment placeholder.');
  }
  if (kind === 'put') {
    const cells = putCells(def, row.attributes, now);
    const pk = hasAuto ? resolvePk(db, t, slots) : (slots as PkValue[]);
    checkCondition(t, hasAuto ? undefined : pk, cond, now);
    return { kind: 'put', pk, cells, ts: now };
  }
  const known = hasAuto ? undefined : (slots as PkValue[]);
  checkCondition(t, known, cond, now);
  const ops = updateOps(t, known, row.attributes, now);
  const pk = known ?? resolvePk(db, t, slots);
  return { kind: 'update', pk, ops };
}

function singleWrite(
  db: Db,
  api: 'PutRow' | 'UpdateRow' | 'DeleteRow',
  tableName: string,
  rowBytes: Buffer,
  cond: { row_existence: number; column_condition?: Buffer | undefined },
  rc: { return_type?: number | undefined; return_column_names: string[] } | undefined,
  transactionId: string | undefined,
): Buffer {
  if (transactionId !== undefined) throw unsupported('Local transactions (transaction_id)');
  const t = tableOf(db, tableName);
  const row = parseRow(rowBytes, `the ${api} request`);
  checkRowLimits(row);
  const now = db.opts.now();
  const kind = api === 'PutRow' ? 'put' : api === 'UpdateRow' ? 'update' : 'delete';
  const w = writeRow(db, t, kind, row, cond, now);
  db.commit({ t: 'write', writes: [{ table: t.def.name, w }] });
  return encode(
    M.WriteRowResponse,
    { consumed: capacity(0, cu(rowDataSize(row))), row: returnRow(t, w.pk, rc, now) },
    `${api}Response`,
  );
}

/** PutRow. */
export function putRow(db: Db, body: Buffer): Buffer {
  const req = decode(M.PutRowRequest, body, 'PutRowRequest');
  return singleWrite(db, 'PutRow', req.table_name, req.row, req.condition, req.return_content, req.transaction_id);
}

/** UpdateRow. */
export function updateRow(db: Db, body: Buffer): Buffer {
  const req = decode(M.UpdateRowRequest, body, 'UpdateRowRequest');
  return singleWrite(db, 'UpdateRow', req.table_name, req.row_change, req.condition, req.return_content, req.transaction_id);
}

/** DeleteRow. */
export function deleteRow(db: Db, body: Buffer): Buffer {
  const req = decode(M.DeleteRowRequest, body, 'DeleteRowRequest');
  return singleWrite(db, 'DeleteRow', req.table_name, req.primary_key, req.condition, req.return_content, req.transaction_id);
}
