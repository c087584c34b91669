/**
 * The attribute changes of a write, checked and resolved: PutRow cells with their timestamps, and
 * UpdateRow's PUT, DELETE, DELETE_ALL and INCREMENT (atomic counters) as the service applies them.
 *
 * @packageDocumentation
 */
import { invalid } from './errors.js';
import { CellOp, type PlainCell, type PlainValue } from '../codec/plain-buffer-format.js';
import { readableVersions, type AttrValue, type PkValue, type ResolvedCell, type ResolvedUpdateOp, type TableDef } from './store.js';
import type { Table } from './table.js';
import { INT64_MAX, INT64_MIN, NAME_RE, VT_NAME } from './wire.js';
import { columnVersions } from './stored-row.js';

function checkTimestamp(def: TableDef, name: string, ts: bigint, now: bigint): void {
  const dev = def.options.deviationCellVersionInSec * 1000n;
  let lower = now - dev;
  if (def.options.timeToLive > 0) {
    const ttlLower = now - BigInt(def.options.timeToLive) * 1000n;
    if (ttlLower > lower) lower = ttlLower;
  }
  const upper = now + dev;
  if (ts < 0n || ts < lower || ts >= upper) {
    throw invalid(`The timestamp ${ts} of column '${name}' is out of the valid range [${lower < 0n ? 0n : lower}, ${upper}).`);
  }
}

function checkAttrName(def: TableDef, name: string): void {
  if (!NAME_RE.test(name)) throw invalid(`Invalid column name: '${name}'.`);
  if (def.primaryKey.some((c) => c.name === name)) throw invalid(`Duplicated attribute column name with primary key column: '${name}'.`);
}

/** An attribute value, or `400` for a missing value or a key-only type. */
export function attrValue(name: string, v: PlainValue | undefined): AttrValue {
  if (!v) throw invalid(`The attribute column '${name}' has no value.`);
  if (v.type === 'INTEGER' || v.type === 'DOUBLE' || v.type === 'BOOLEAN' || v.type === 'STRING' || v.type === 'BINARY') return v;
  throw invalid(`Invalid type of attribute column '${name}': ${VT_NAME[v.type]}.`);
}

/** The cells of a PutRow, with timestamps resolved. */
export function putCells(def: TableDef, attrs: readonly PlainCell[], now: bigint): ResolvedCell[] {
  const out: ResolvedCell[] = [];
  for (const c of attrs) {
    checkAttrName(def, c.name);
    if (c.op !== undefined) throw invalid(`PutRow does not accept an operation on column '${c.name}'.`);
    const value = attrValue(c.name, c.value);
    if (c.timestamp !== undefined) checkTimestamp(def, c.name, c.timestamp, now);
    const ts = c.timestamp ?? now;
    // Rows carry few columns: a scan beats building a set of keys per row.
    for (const prev of out) if (prev.name === c.name && prev.ts === ts) throw invalid(`Duplicated attribute column name: '${c.name}'.`);
    out.push({ name: c.name, value, ts });
  }
  return out;
}

/** The column changes of an UpdateRow, resolved (INCREMENT becomes a put of the new value). */
export function updateOps(t: Table, pk: readonly PkValue[] | undefined, attrs: readonly PlainCell[], now: bigint): ResolvedUpdateOp[] {
  const def = t.def;
  if (attrs.length === 0) throw invalid('UpdateRow needs at least one attribute column change.');
  const existing = pk ? t.get(pk) : undefined;
  const pending = new Map<string, bigint>();
  // As on the service, an atomic counter column takes no other change in the same request.
  const incremented = new Set<string>();
  const changed = new Set<string>();
  for (const c of attrs) {
    if (c.op === CellOp.INCREMENT ? changed.has(c.name) || incremented.has(c.name) : incremented.has(c.name)) {
      throw invalid(`The column '${c.name}' is incremented and changed again in the same request: an atomic counter takes no other change.`);
    }
    (c.op === CellOp.INCREMENT ? incremented : changed).add(c.name);
  }
  return attrs.map((c): ResolvedUpdateOp => {
    checkAttrName(def, c.name);
    switch (c.op) {
      case undefined: {
        const value = attrValue(c.name, c.value);
        if (c.timestamp !== undefined) checkTimestamp(def, c.name, c.timestamp, now);
        if (value.type === 'INTEGER') pending.set(c.name, value.value);
        return { op: 'put', name: c.name, value, ts: c.timestamp ?? now };
      }
      case CellOp.DELETE_ALL_VERSIONS:
        if (c.value !== undefined || c.timestamp !== undefined) throw invalid(`DELETE_ALL on column '${c.name}' takes neither a value nor a timestamp.`);
        pending.delete(c.name);
        return { op: 'deleteAll', name: c.name };
      case CellOp.DELETE_ONE_VERSION:
        if (c.timestamp === undefined) throw invalid(`DELETE of one version of column '${c.name}' needs a timestamp.`);
        if (c.value !== undefined) throw invalid(`DELETE of one version of column '${c.name}' takes no value.`);
        return { op: 'deleteOne', name: c.name, ts: c.timestamp };
      case CellOp.INCREMENT: {
        const delta = attrValue(c.name, c.value);
        if (delta.type !== 'INTEGER') throw invalid(`INCREMENT on column '${c.name}' needs an INTEGER value.`);
        if (c.timestamp !== undefined) throw invalid(`INCREMENT on column '${c.name}' takes no timestamp.`);
        let base = pending.get(c.name);
        if (base === undefined && existing) {
          const latest = readableVersions(columnVersions(existing.cells, c.name), def.options, now)[0];
          if (latest && latest.value.type !== 'INTEGER') throw invalid(`INCREMENT on column '${c.name}' whose value is not an INTEGER.`);
          base = latest?.value.type === 'INTEGER' ? latest.value.value : undefined;
        }
        const sum = (base ?? 0n) + delta.value;
        if (sum > INT64_MAX || sum < INT64_MIN) throw invalid(`INCREMENT on column '${c.name}' overflows a 64-bit integer.`);
        pending.set(c.name, sum);
        return { op: 'put', name: c.name, value: { type: 'INTEGER', value: sum }, ts: now };
      }
      default:
        throw invalid(`Unknown operation ${c.op} on column '${c.name}'.`);
    }
  });
}

/** Checks the row-existence expectation, then the column condition; `pk` is `undefined` for a row being created. */
