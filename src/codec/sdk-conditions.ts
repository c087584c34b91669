/**
 * SDK condition objects (`TableStore.Condition`, `SingleColumnCondition`, `CompositeCondition`,
 * `ColumnPaginationFilter`) to the protobuf the SDK sends: the `Condition` message and the
 * `Filter` bytes of conditions and read filters. The objects are recognised by their
 * `getType()` (the SDK's filter type) and fields, never by the SDK's classes.
 *
 * @packageDocumentation
 */
import * as M from './messages.js';
import { encodeMessage, type MessageInput } from './protobuf.js';
import type { SdkPlainBufferEncoder } from './sdk-plain-buffer.js';

interface SdkColumnCondition {
  getType(): number;
  readonly [field: string]: unknown;
}

/** `Filter` bytes of a column condition or read filter (the SDK's `_makeColumnCondition`). */
export function encodeColumnFilter(cc: unknown, rows: SdkPlainBufferEncoder): Buffer {
  return encodeMessage(M.Filter, filterInput(cc, rows));
}

function filterInput(cc: unknown, rows: SdkPlainBufferEncoder): MessageInput<typeof M.Filter> {
  if (cc === null || cc === undefined || typeof (cc as SdkColumnCondition).getType !== 'function') {
    throw new TypeError('Expected a TableStore column condition (SingleColumnCondition, CompositeCondition or ColumnPaginationFilter)');
  }
  const c = cc as SdkColumnCondition;
  const type = c.getType();
  if (type === null) throw new Error('column_condition_type should be one of TableStore.ColumnConditionType');
  let filter: Buffer;
  if (type === M.FilterType.COMPOSITE_COLUMN_VALUE) {
    if (c.combinator === undefined || c.combinator === null) throw new Error('LogicalOperator should be one of TableStore.LogicalOperator');
    const subs = c.sub_conditions as Record<string, unknown>;
    const subFilters: MessageInput<typeof M.Filter>[] = [];
    for (const k in subs) subFilters.push(filterInput(subs[k], rows));
    filter = encodeMessage(M.CompositeColumnValueFilter, { combinator: c.combinator as number, sub_filters: subFilters });
  } else if (type === M.FilterType.SINGLE_COLUMN_VALUE) {
    if (c.comparator === null) throw new Error('ComparatorType should be one of [%s], not %s');
    filter = encodeMessage(M.SingleColumnValueFilter, {
      // protobufjs writes a missing required enum as 0 and a required bool by truthiness.
      comparator: (c.comparator as number | undefined) ?? 0,
      column_name: c.columnName as string,
      column_value: rows.columnValue(c.columnValue),
      filter_if_missing: !c.passIfMissing,
      latest_version_only: !!c.latestVersionOnly,
    });
  } else if (type === M.FilterType.COLUMN_PAGINATION) {
    filter = encodeMessage(M.ColumnPaginationFilter, { offset: (c.offset as number | undefined) ?? 0, limit: (c.limit as number | undefined) ?? 0 });
  } else {
    throw new Error('expect CompositeCondition, RelationCondition, ColumnPaginationFilter but not ');
  }
  return { type, filter };
}

/** The `Condition` message of a write (the SDK's `_makeCondition`). */
export function conditionInput(condition: unknown, rows: SdkPlainBufferEncoder): { row_existence: number; column_condition?: Buffer } {
  if (condition === null || condition === undefined) {
    throw new TypeError('Expected `condition` to be a TableStore.Condition (the SDK requires one on every write)');
  }
  const c = condition as { rowExistenceExpectation?: unknown; columnCondition?: unknown };
  const rowExistence = c.rowExistenceExpectation;
  if (rowExistence === undefined || rowExistence === null) throw new Error('rowExistenceExpectation should be one of TableStore.RowExistenceExpectation');
  const out: { row_existence: number; column_condition?: Buffer } = { row_existence: rowExistence as number };
  if (c.columnCondition !== null && c.columnCondition !== undefined) out.column_condition = encodeColumnFilter(c.columnCondition, rows);
  return out;
}
