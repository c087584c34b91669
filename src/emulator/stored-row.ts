/**
 * The compact layout of a stored row's attribute cells, and the views the APIs read it through.
 *
 * A row's cells are one flat array, `name, timestamp, value` per version, names in code-unit
 * (= byte, names being ASCII) order and each name's versions newest first: one object per row
 * instead of a Map with an array and an object per version. Values are kept bare (the bigint,
 * number, boolean, string or Buffer, whose JS type says the column type) and boxed back into an
 * {@link AttrValue} only when read. Every stored row outlives many young-generation
 * collections, and each object it holds is copied on the way to the old generation, so fewer
 * objects per row is most of the emulator's GC cost.
 *
 * @packageDocumentation
 */
import type { AttrValue, CellVersion, ResolvedCell } from './store.js';

/** A stored value without its type tag: the JS type says the column type. */
export type BareValue = bigint | number | boolean | string | Buffer;

/** `name, ts, bare value` per version; see the file comment for the order. */
export type FlatCells = readonly BareValue[];

/** A stored bare value with its type tag again. */
export function boxed(v: BareValue): AttrValue {
  switch (typeof v) {
    case 'bigint':
      return { type: 'INTEGER', value: v };
    case 'number':
      return { type: 'DOUBLE', value: v };
    case 'boolean':
      return { type: 'BOOLEAN', value: v };
    case 'string':
      return { type: 'STRING', value: v };
    default:
      return { type: 'BINARY', value: v };
  }
}

/** Slots per version in {@link FlatCells}. */
export const STRIDE = 3;

/** The versions of column `name`, newest first (empty when the row has none). */
export function columnVersions(cells: FlatCells, name: string): CellVersion[] {
  const out: CellVersion[] = [];
  for (let i = 0; i < cells.length; i += STRIDE) {
    if (cells[i] === name) out.push({ ts: cells[i + 1] as bigint, value: boxed(cells[i + 2] as BareValue) });
  }
  return out;
}

/** Every column with its versions, in name order (the persisted snapshot format). */
export function columnMap(cells: FlatCells): Map<string, CellVersion[]> {
  const map = new Map<string, CellVersion[]>();
  for (let i = 0; i < cells.length; i += STRIDE) {
    const name = cells[i] as string;
    let versions = map.get(name);
    if (!versions) map.set(name, (versions = []));
    versions.push({ ts: cells[i + 1] as bigint, value: boxed(cells[i + 2] as BareValue) });
  }
  return map;
}

/**
 * Flattens columns (each one's versions newest first) into {@link FlatCells}, names sorted.
 * `intern` maps each name to a shared copy, so that rows do not each keep their own.
 */
export function flatten(columns: ReadonlyMap<string, readonly CellVersion[]>, intern: (name: string) => string): FlatCells {
  const names = [...columns.keys()].sort();
  const out: BareValue[] = [];
  for (const name of names) {
    const shared = intern(name);
    for (const v of columns.get(name) as readonly CellVersion[]) out.push(shared, v.ts, v.value.value);
  }
  return out;
}

/**
 * The cells of a PutRow whose column names are all distinct (the usual case), flattened without
 * an intermediate map; `undefined` when a name repeats (the caller then merges versions).
 * `internValue` may swap a value for an equal shared one.
 */
export function flattenDistinct(cells: readonly ResolvedCell[], intern: (name: string) => string, internValue: (v: BareValue) => BareValue = (v) => v): FlatCells | undefined {
  const n = cells.length;
  if (n > 16) return undefined;
  // Insertion sort by name: a handful of cells, and no comparator closure per row.
  const order = cells.slice();
  for (let i = 1; i < n; i++) {
    const c = order[i] as ResolvedCell;
    let j = i - 1;
    while (j >= 0 && (order[j] as ResolvedCell).name > c.name) {
      order[j + 1] = order[j] as ResolvedCell;
      j--;
    }
    if (j >= 0 && (order[j] as ResolvedCell).name === c.name) return undefined;
    order[j + 1] = c;
  }
  const out: BareValue[] = new Array<BareValue>(n * STRIDE);
  for (let i = 0; i < n; i++) {
    const c = order[i] as ResolvedCell;
    out[i * STRIDE] = intern(c.name);
    out[i * STRIDE + 1] = c.ts;
    out[i * STRIDE + 2] = internValue(c.value.value);
  }
  return out;
}
