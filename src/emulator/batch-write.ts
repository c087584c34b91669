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
import { returnRowInto, writeRow } from './row-writes.js';
import { PlainBufferWriter } from '../codec/plain-buffer-writer.js';
import { ByteRange } from '../codec/protobuf.js';
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
  // Returned rows go into one warm buffer and the answer refers to ranges of it.
  const returned = returnedRows;
  returned.truncate(0);
  const ranges: { start: number; end: number }[] = [];
  const answers: { row?: Buffer | ByteRange | undefined }[] = [];
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
        const answer: { is_ok: boolean; consumed: ReturnType<typeof capacity>; row?: Buffer | ByteRange | undefined } = { is_ok: true, consumed: capacity(0, cu(rowDataSize(row))) };
        const range = returnRowInto(returned, t, w.pk, r.return_content, now);
        if (range !== undefined) {
          ranges.push(range);
          answers.push(answer);
        }
        return answer;
      } catch (e) {
        if (e instanceof OtsError) return { is_ok: false, error: { code: e.code, message: e.message } };
        throw e;
      }
    }),
  }));
  if (applied.length > 0) db.record({ t: 'write', writes: applied });
  // The writer may have moved its bytes while growing: ranges are bound to its final buffer.
  const bytes = returned.finish();
  for (let i = 0; i < answers.length; i++) {
    const range = ranges[i] as { start: number; end: number };
    (answers[i] as { row?: Buffer | ByteRange }).row = new ByteRange(bytes, range.start, range.end);
  }
  const response = encode(M.BatchWriteRowResponse, { tables }, 'BatchWriteRowResponse');
  if (returned.capacity > 4 * RETURNED_ROWS_BYTES) returnedRows = new PlainBufferWriter(RETURNED_ROWS_BYTES);
  return response;
}

const RETURNED_ROWS_BYTES = 64 * 1024;
let returnedRows = new PlainBufferWriter(RETURNED_ROWS_BYTES);
