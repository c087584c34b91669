/**
 * Reads: GetRow, GetRange and BatchGetRow, with the read options (columns, versions, time range,
 * column range), filters and GetRange's paging.
 *
 * @packageDocumentation
 */
import { matches, paginateColumns, parseFilter, type ColumnFilter } from './conditions.js';
import { tableOf, type Db, type RequestContext } from './context.js';
import { invalid, OtsError, unsupported } from './errors.js';
import { LIMITS } from './limits.js';
import * as M from '../codec/messages.js';
import type { PlainCell } from '../codec/plain-buffer-format.js';
import { encodeStoredRow, PlainBufferWriter } from '../codec/plain-buffer-writer.js';
import { decodePk, readPk } from './primary-keys.js';
import { compareBounds, isAlive, type AttrValue, type BoundValue, type CellVersion, type PkValue, type StoredRow, type TableDef } from './store.js';
import type { Table } from './table.js';
import { capacity, cu, decode, encode, parseRow } from './wire.js';
import { STRIDE } from './stored-row.js';

/** A condition's view of rendered cells (sorted by name, newest version first). */
function lookupIn(cells: readonly PlainCell[]): (name: string) => CellVersion[] | undefined {
return (name) => {
  const out: CellVersion[] = [];
  for (const c of cells) if (c.name === name && c.value) out.push({ ts: c.timestamp ?? 0n, value: c.value as AttrValue });
  return out.length > 0 ? out : undefined;
};
}

interface ReadSpec {
readonly columns: ReadonlySet<string> | undefined;
readonly maxVersions: number | undefined;
readonly timeRange: { readonly start: bigint; readonly end: bigint } | undefined;
readonly startColumn: string | undefined;
readonly endColumn: string | undefined;
readonly filter: ColumnFilter | undefined;
}

function readSpec(
  def: TableDef,
  req: {
    columns_to_get: string[];
    max_versions?: number | undefined;
    time_range?: { start_time?: bigint | undefined; end_time?: bigint | undefined; specific_time?: bigint | undefined } | undefined;
    filter?: Buffer | undefined;
    start_column?: string | undefined;
    end_column?: string | undefined;
    token?: Buffer | Buffer[] | undefined;
    transaction_id?: string | undefined;
  },
): ReadSpec {
  const token = req.token;
  if (token !== undefined && (Array.isArray(token) ? token.some((b) => b.length > 0) : token.length > 0)) throw unsupported('Wide-row paging tokens');
  if (req.transaction_id !== undefined) throw unsupported('Local transactions (transaction_id)');
  if (req.columns_to_get.length > LIMITS.columnsToGet) throw invalid(`The number of columns_to_get exceeds the limit: ${LIMITS.columnsToGet}.`);
  if (req.max_versions === undefined && req.time_range === undefined) throw invalid('Neither max_versions nor time_range is set.');
  if (req.max_versions !== undefined && req.max_versions < 1) throw invalid(`The value of max_versions must be at least 1, got ${req.max_versions}.`);
  let timeRange: ReadSpec['timeRange'];
  const tr = req.time_range;
  if (tr) {
    if (tr.specific_time !== undefined) {
      if (tr.start_time !== undefined || tr.end_time !== undefined) throw invalid('time_range takes either specific_time or start_time/end_time.');
      timeRange = { start: tr.specific_time, end: tr.specific_time + 1n };
    } else {
      if (tr.start_time === undefined || tr.end_time === undefined) throw invalid('time_range needs both start_time and end_time.');
      if (tr.start_time < 0n || tr.start_time >= tr.end_time) throw invalid('time_range.start_time must be non-negative and less than end_time.');
      timeRange = { start: tr.start_time, end: tr.end_time };
    }
  }
  return {
    columns: req.columns_to_get.length > 0 ? new Set(req.columns_to_get) : undefined,
    maxVersions: req.max_versions,
    timeRange,
    startColumn: req.start_column,
    endColumn: req.end_column,
    filter: req.filter !== undefined && req.filter.length > 0 ? parseFilter(req.filter, def, 'filter') : undefined,
  };
}

/** The row as a read returns it, or `undefined` when the read shows nothing. */
function render(t: Table, row: StoredRow, spec: ReadSpec, now: bigint): PlainCell[] | undefined {
  const def = t.def;
  const ttl = def.options.timeToLive;
  const tableMax = def.options.maxVersions;
  const max = spec.maxVersions === undefined ? tableMax : Math.min(spec.maxVersions, tableMax);
  const tr = spec.timeRange;
  let visible = row.marker !== undefined && isAlive(row.marker, ttl, now);
  let attributes: PlainCell[] = [];
  // Stored cells are flat, names in code-unit order (= byte order: names are ASCII identifiers,
  // checked on write), each name's versions newest first.
  const cells = row.cells;
  let name = '';
  let selected = false;
  let index = 0;
  let taken = 0;
  for (let i = 0; i < cells.length; i += STRIDE) {
    if (i === 0 || cells[i] !== name) {
      name = cells[i] as string;
      selected = !(
        (spec.columns && !spec.columns.has(name)) ||
        (spec.startColumn !== undefined && name < spec.startColumn) ||
        (spec.endColumn !== undefined && name >= spec.endColumn)
      );
      index = 0;
      taken = 0;
    }
    // The newest table-max versions that are alive make the row visible; the read then keeps
    // those in its time range, up to its own max.
    if (index++ >= tableMax) continue;
    const ts = cells[i + 1] as bigint;
    if (!isAlive(ts, ttl, now)) continue;
    visible = true;
    if (!selected || taken >= max) continue;
    if (tr && (ts < tr.start || ts >= tr.end)) continue;
    attributes.push({ name, value: cells[i + 2] as AttrValue, timestamp: ts });
    taken++;
  }
  if (!visible) return undefined;
  if (attributes.length === 0 && spec.columns && !def.primaryKey.some((c) => spec.columns?.has(c.name))) return undefined;
  const filter = spec.filter;
  if (filter?.kind === 'pagination') attributes = paginateColumns(attributes, filter.offset, filter.limit);
  else if (filter && !matches(filter, lookupIn(attributes))) return undefined;
  return attributes;
}

/** GetRow. */
export function getRow(db: Db, body: Buffer): Buffer {
  const req = decode(M.GetRowRequest, body, 'GetRowRequest');
  const t = tableOf(db, req.table_name);
  const spec = readSpec(t.def, req);
  const pk = readPk(t.def, parseRow(req.primary_key, 'GetRowRequest.primary_key'));
  const now = db.opts.now();
  const stored = t.get(pk);
  const attributes = stored ? render(t, stored, spec, now) : undefined;
  const bytes = stored && attributes ? encodeStoredRow(t.def.primaryKey, stored.pk, attributes) : Buffer.alloc(0);
  return encode(M.GetRowResponse, { consumed: capacity(cu(bytes.length), 0), row: bytes }, 'GetRowResponse');
}

/** GetRange. */
export function getRange(db: Db, body: Buffer): Buffer {
  const req = decode(M.GetRangeRequest, body, 'GetRangeRequest');
  const t = tableOf(db, req.table_name);
  const spec = readSpec(t.def, req);
  if (req.direction !== M.Direction.FORWARD && req.direction !== M.Direction.BACKWARD) throw invalid(`Invalid direction: ${req.direction}.`);
  const backward = req.direction === M.Direction.BACKWARD;
  const start = decodePk(t.def, parseRow(req.inclusive_start_primary_key, 'inclusive_start_primary_key').primaryKey, 'bound') as BoundValue[];
  const end = decodePk(t.def, parseRow(req.exclusive_end_primary_key, 'exclusive_end_primary_key').primaryKey, 'bound') as BoundValue[];
  const order = compareBounds(start, end);
  if (!backward && order >= 0) throw invalid('The inclusive_start_primary_key must be less than the exclusive_end_primary_key in a FORWARD range.');
  if (backward && order <= 0) throw invalid('The inclusive_start_primary_key must be greater than the exclusive_end_primary_key in a BACKWARD range.');
  if (req.limit !== undefined && req.limit <= 0) throw invalid(`The limit must be greater than 0, got ${req.limit}.`);
  const limit = Math.min(req.limit ?? LIMITS.rangeRows, LIMITS.rangeRows);
  const now = db.opts.now();
  const w = new PlainBufferWriter(16 * 1024);
  w.header();
  let count = 0;
  let next: readonly PkValue[] | undefined;
  let scanned = 0;
  for (const stored of t.scan(start, end, backward)) {
    // A page reads at most rangeRows stored rows, even when a filter skips them: like the
    // service, it may then come back short or empty with a next key.
    if (count >= limit || scanned >= LIMITS.rangeRows) {
      next = stored.pk;
      break;
    }
    scanned++;
    const attributes = render(t, stored, spec, now);
    if (!attributes) continue;
    const before = w.length;
    w.storedRow(t.def.primaryKey, stored.pk, attributes);
    // Cut at a row boundary; a single oversized row still goes out alone.
    if (count > 0 && w.length > LIMITS.rangeBytes) {
      w.truncate(before);
      next = stored.pk;
      break;
    }
    count++;
  }
  const rowsBytes = count > 0 ? w.finish() : Buffer.alloc(0);
  return encode(
    M.GetRangeResponse,
    {
      consumed: capacity(cu(rowsBytes.length), 0),
      rows: rowsBytes,
      next_start_primary_key: next ? encodeStoredRow(t.def.primaryKey, next, []) : undefined,
    },
    'GetRangeResponse',
  );
}

/** BatchGetRow. */
export function batchGetRow(db: Db, body: Buffer, ctx: RequestContext): Buffer {
  const req = decode(M.BatchGetRowRequest, body, 'BatchGetRowRequest');
  const total = req.tables.reduce((n, tb) => n + tb.primary_key.length, 0);
  if (total === 0) throw invalid('No row specified in the BatchGetRow request.');
  if (total > LIMITS.batchGetRows) throw invalid(`The number of rows in BatchGetRow exceeds the limit: ${LIMITS.batchGetRows}, got ${total}.`);
  const names = new Set<string>();
  for (const tb of req.tables) {
    if (names.has(tb.table_name)) throw invalid(`Duplicated table name in BatchGetRow: '${tb.table_name}'.`);
    names.add(tb.table_name);
    tableOf(db, tb.table_name);
  }
  const now = db.opts.now();
  let index = 0;
  const tables = req.tables.map((tb) => {
    const t = tableOf(db, tb.table_name);
    const spec = readSpec(t.def, { ...tb, transaction_id: undefined });
    const rows = tb.primary_key.map((pkBytes) => {
      const injected = ctx.rowError(index++);
      if (injected) return { is_ok: false, error: injected };
      try {
        const pk = readPk(t.def, parseRow(pkBytes, 'BatchGetRowRequest.primary_key'));
        const stored = t.get(pk);
        const attributes = stored ? render(t, stored, spec, now) : undefined;
        const bytes = stored && attributes ? encodeStoredRow(t.def.primaryKey, stored.pk, attributes) : Buffer.alloc(0);
        return { is_ok: true, consumed: capacity(cu(bytes.length), 0), row: bytes };
      } catch (e) {
        if (e instanceof OtsError) return { is_ok: false, error: { code: e.code, message: e.message } };
        throw e;
      }
    });
    return { table_name: tb.table_name, rows };
  });
  return encode(M.BatchGetRowResponse, { tables }, 'BatchGetRowResponse');
}
