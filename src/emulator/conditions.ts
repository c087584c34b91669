/**
 * Column conditions: the `Filter` messages of write conditions (`Condition.column_condition`) and
 * of read filters (`filter` on GetRow, BatchGetRow and GetRange). Decoding validates them the way
 * the service does; evaluation runs against the cells a row shows at the time of the request.
 *
 * @packageDocumentation
 */
import { invalid, unsupported } from './errors.js';
import * as M from '../codec/messages.js';
import { PlainBufferError } from '../codec/plain-buffer-format.js';
import { decodeVariant } from '../codec/plain-buffer-reader.js';
import { decodeMessage, ProtobufDecodeError, type MessageSchema, type Message } from '../codec/protobuf.js';
import type { AttrValue, CellVersion, TableDef } from './store.js';

/** The most single-column conditions one filter may hold, as on the service. */
export const MAX_FILTER_CONDITIONS = 10;

/** A relational comparator, by its `ComparatorType` number. */
export type Comparator = (typeof M.ComparatorType)[keyof typeof M.ComparatorType];

/** A decoded, validated column condition or read filter. */
export type ColumnFilter =
  | {
      readonly kind: 'single';
      readonly comparator: Comparator;
      readonly column: string;
      readonly value: AttrValue;
      /** `true` when a row without the column fails the condition (the SDK's `passIfMissing: false`). */
      readonly filterIfMissing: boolean;
      readonly latestVersionOnly: boolean;
    }
  | { readonly kind: 'composite'; readonly operator: 'NOT' | 'AND' | 'OR'; readonly subs: readonly ColumnFilter[] }
  | { readonly kind: 'pagination'; readonly offset: number; readonly limit: number };

/** Where a filter comes from: write conditions cannot paginate columns. */
export type FilterUse = 'condition' | 'filter';

/** The versions of one column as a condition sees them, newest first; `undefined` when absent. */
export type CellLookup = (column: string) => readonly CellVersion[] | undefined;

const COMPARATORS = new Set<number>(Object.values(M.ComparatorType));
const OPERATORS: Record<number, 'NOT' | 'AND' | 'OR'> = { 1: 'NOT', 2: 'AND', 3: 'OR' };
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

function decodePart<S extends MessageSchema>(schema: S, bytes: Buffer, name: string): Message<S> {
  try {
    return decodeMessage(schema, bytes, name);
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw invalid(`Failed to parse the ${name}: ${e.message}.`);
    throw e;
  }
}

function attrValue(bytes: Buffer, column: string): AttrValue {
  let v;
  try {
    v = decodeVariant(bytes);
  } catch (e) {
    if (e instanceof PlainBufferError) throw invalid(`Invalid column value in the condition on column '${column}': ${e.message}.`);
    throw e;
  }
  return v as AttrValue;
}

/**
 * Decodes and validates the bytes of a `Filter` message.
 *
 * @throws {@link OtsError} `400 OTSParameterInvalid` for a malformed filter, an unknown comparator,
 *   filter type or logical operator, a condition on a primary-key column, more than
 *   {@link MAX_FILTER_CONDITIONS} conditions, a NOT without exactly one operand, an AND/OR with fewer
 *   than two, or a ColumnPaginationFilter inside a write condition or a composite filter.
 */
export function parseFilter(bytes: Buffer, def: TableDef, use: FilterUse): ColumnFilter {
  let count = 0;
  const parse = (msg: Message<typeof M.Filter>, depth: number): ColumnFilter => {
    switch (msg.type) {
      case M.FilterType.SINGLE_COLUMN_VALUE: {
        const f = decodePart(M.SingleColumnValueFilter, msg.filter, 'SingleColumnValueFilter');
        if (f.value_trans_rule !== undefined) throw unsupported('SingleColumnValueRegexFilter (value_trans_rule)');
        if (!COMPARATORS.has(f.comparator)) throw invalid(`Invalid comparator type: ${f.comparator}.`);
        if (!NAME_RE.test(f.column_name)) throw invalid(`Invalid column name in the column condition: '${f.column_name}'.`);
        if (def.primaryKey.some((c) => c.name === f.column_name)) {
          throw invalid(`The column condition cannot refer to the primary key column: '${f.column_name}'.`);
        }
        if (++count > MAX_FILTER_CONDITIONS) throw invalid(`The number of column conditions exceeds the limit: ${MAX_FILTER_CONDITIONS}.`);
        return {
          kind: 'single',
          comparator: f.comparator as Comparator,
          column: f.column_name,
          value: attrValue(f.column_value, f.column_name),
          filterIfMissing: f.filter_if_missing,
          latestVersionOnly: f.latest_version_only,
        };
      }
      case M.FilterType.COMPOSITE_COLUMN_VALUE: {
        const f = decodePart(M.CompositeColumnValueFilter, msg.filter, 'CompositeColumnValueFilter');
        const operator = OPERATORS[f.combinator];
        if (!operator) throw invalid(`Invalid logical operator: ${f.combinator}.`);
        if (operator === 'NOT' && f.sub_filters.length !== 1) throw invalid(`The logical operator NOT takes exactly one sub condition, got ${f.sub_filters.length}.`);
        if (operator !== 'NOT' && f.sub_filters.length < 2) throw invalid(`The logical operator ${operator} takes at least two sub conditions, got ${f.sub_filters.length}.`);
        return { kind: 'composite', operator, subs: f.sub_filters.map((s) => parse(s, depth + 1)) };
      }
      case M.FilterType.COLUMN_PAGINATION: {
        if (use === 'condition') throw invalid('A ColumnPaginationFilter cannot be used as a row write condition.');
        if (depth > 0) throw invalid('A ColumnPaginationFilter cannot be a sub condition of a CompositeColumnValueFilter.');
        const f = decodePart(M.ColumnPaginationFilter, msg.filter, 'ColumnPaginationFilter');
        if (f.offset < 0) throw invalid(`The offset of the ColumnPaginationFilter must not be negative, got ${f.offset}.`);
        if (f.limit <= 0) throw invalid(`The limit of the ColumnPaginationFilter must be greater than 0, got ${f.limit}.`);
        return { kind: 'pagination', offset: f.offset, limit: f.limit };
      }
      default:
        throw invalid(`Invalid filter type: ${msg.type}.`);
    }
  };
  return parse(decodePart(M.Filter, bytes, 'Filter'), 0);
}

function compareBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/** Orders two values of the same type; `undefined` when the types differ (never comparable). */
function compareValues(a: AttrValue, b: AttrValue): number | undefined {
  switch (a.type) {
    case 'INTEGER':
      return b.type === 'INTEGER' ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : undefined;
    case 'DOUBLE':
      return b.type === 'DOUBLE' ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : undefined;
    case 'BOOLEAN':
      return b.type === 'BOOLEAN' ? Number(a.value) - Number(b.value) : undefined;
    case 'STRING':
      // The service compares strings as UTF-8 bytes, which is not UTF-16 order.
      return b.type === 'STRING' ? compareBytes(Buffer.from(a.value, 'utf8'), Buffer.from(b.value, 'utf8')) : undefined;
    case 'BINARY':
      return b.type === 'BINARY' ? compareBytes(a.value, b.value) : undefined;
  }
}

function holds(comparator: Comparator, cell: AttrValue, operand: AttrValue): boolean {
  const c = compareValues(cell, operand);
  if (c === undefined) return false;
  switch (comparator) {
    case M.ComparatorType.EQUAL:
      return c === 0;
    case M.ComparatorType.NOT_EQUAL:
      return c !== 0;
    case M.ComparatorType.GREATER_THAN:
      return c > 0;
    case M.ComparatorType.GREATER_EQUAL:
      return c >= 0;
    case M.ComparatorType.LESS_THAN:
      return c < 0;
    case M.ComparatorType.LESS_EQUAL:
      return c <= 0;
  }
}

/**
 * `true` when a row whose cells `lookup` returns passes the filter. A ColumnPaginationFilter
 * always passes (it trims columns instead, see {@link paginateColumns}).
 */
export function matches(filter: ColumnFilter, lookup: CellLookup): boolean {
  switch (filter.kind) {
    case 'pagination':
      return true;
    case 'composite':
      if (filter.operator === 'NOT') return !matches(filter.subs[0] as ColumnFilter, lookup);
      return filter.operator === 'AND' ? filter.subs.every((s) => matches(s, lookup)) : filter.subs.some((s) => matches(s, lookup));
    case 'single': {
      const versions = lookup(filter.column);
      if (!versions || versions.length === 0) return !filter.filterIfMissing;
      if (filter.latestVersionOnly) return holds(filter.comparator, (versions[0] as CellVersion).value, filter.value);
      return versions.some((v) => holds(filter.comparator, v.value, filter.value));
    }
  }
}

/**
 * The columns a ColumnPaginationFilter keeps: cells are grouped by column (in the order given,
 * sorted by name), columns `[offset, offset + limit)` are kept with all their versions.
 */
export function paginateColumns<C extends { readonly name: string }>(cells: readonly C[], offset: number, limit: number): C[] {
  const out: C[] = [];
  let column = -1;
  let last: string | undefined;
  for (const c of cells) {
    if (c.name !== last) {
      column++;
      last = c.name;
    }
    if (column >= offset + limit) break;
    if (column >= offset) out.push(c);
  }
  return out;
}
