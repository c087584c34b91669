/**
 * BatchWriteRow: at most 200 rows over several tables; malformed requests fail as a whole, row
 * errors (schema, conditions, injected faults) fail just their row.
 *
 * @packageDocumentation
 */
import type { Db, RequestContext } from './context.js';
import { tableOf } from './context.js';
import { invalid, OtsError, unsupported } from './errors.js';
import { LIMITS } from './limits.js';
import * as M from '../codec/messages.js';
import { decodePk, type PkSlot } from './primary-keys.js';
import { returnRow, writeRow } from './row-writes.js';
import { rowKey, type PkValue, type ResolvedWrite } from './store.js';
import { capacity, checkRowLimits, cu, decode, encode, parseRow, rowDataSize } from './wire.js';

/** BatchWriteRow: whole-request checks first, then each row applied in order with its own result. */
export function batchWriteRow(db: Db, body: Buffer, ctx: RequestContext): Buffer {
  const req = decode(M.BatchWriteRowRequest, body, 'BatchWriteRowRequest');
  if (req.transaction_id !== undefined) throw unsupported('Local transactions (transaction_id)');
  const total = req.tables.reduce((n, tb) => n + tb.rows.length, 0);
  if (total === 0) throw invalid('No row specified in the BatchWriteRow request.');
  if (total > LIMITS.batchWriteRows) throw invalid(`The number of rows in BatchWriteRow exceeds the limit: ${LIMITS.batchWriteRows}, got ${total}.`);
  const names = new Set<string>();
  // Whole-request checks first: nothing is applied unless all of them pass.
  const prepared = req.tables.map((tb) => {
    if (names.has(tb.table_name)) throw invalid(`Duplicated table name in BatchWriteRow: '${tb.table_name}'.`);
    names.add(tb.table_name);
    const t = tableOf(db, tb.table_name);
    const keys = new Set<string>();
    const rows = tb.rows.map((r) => {
      const row = parseRow(r.row_change, 'BatchWriteRowRequest.row_change');
      checkRowLimits(row);
      if (r.type !== M.OperationType.PUT && r.type !== M.OperationType.UPDATE && r.type !== M.OperationType.DELETE) {
        throw invalid(`Invalid operation type in BatchWriteRow: ${r.type}.`);
      }
      let slots: PkSlot[] | undefined;
      try {
        slots = decodePk(t.def, row.primaryKey, r.type === M.OperationType.DELETE ? 'read' : 'write');
      } catch (e) {
        if (!(e instanceof OtsError)) throw e;
        // Reported for the row itself below.
      }
      if (slots && !slots.includes('auto')) {
        const key = rowKey(slots as PkValue[]);
        if (keys.has(key)) throw invalid(`Duplicated primary key in table '${tb.table_name}' of the BatchWriteRow request.`);
        keys.add(key);
      }
      return { r, row, slots };
    });
    return { t, rows };
  });
  const now = db.opts.now();
  const applied: { table: string; w: ResolvedWrite }[] = [];
  let index = 0;
  const tables = prepared.map(({ t, rows }) => ({
    table_name: t.def.name,
    rows: rows.map(({ r, row, slots }) => {
      const injected = ctx.rowError(index++);
      if (injected) return { is_ok: false, error: injected };
      try {
        const kind = r.type === M.OperationType.PUT ? 'put' : r.type === M.OperationType.UPDATE ? 'update' : 'delete';
        const w = writeRow(db, t, kind, row, r.condition, now, kind === 'delete' ? undefined : slots);
        // Apply at once so that later rows of the batch see this one (auto-increment order).
        t.apply(w);
        applied.push({ table: t.def.name, w });
        return { is_ok: true, consumed: capacity(0, cu(rowDataSize(row))), row: returnRow(t, w.pk, r.return_content, now) };
      } catch (e) {
        if (e instanceof OtsError) return { is_ok: false, error: { code: e.code, message: e.message } };
        throw e;
      }
    }),
  }));
  if (applied.length > 0) db.record({ t: 'write', writes: applied });
  return encode(M.BatchWriteRowResponse, { tables }, 'BatchWriteRowResponse');
}
