/**
 * Table administration: create a table if it is missing, verify an existing table's primary key,
 * and reconcile its TTL. Shared by timeline tables and record tables, which differ only in their
 * primary key.
 *
 * @packageDocumentation
 */
import type { EnsureTableOptions, TableDescription, TableSpec } from '../../core/backend.js';
import { BackendError, TableIncompatibleError } from '../../core/errors.js';
import { request } from './request.js';
import { log, type OperationContext, type Runtime } from './runtime.js';
import type { SdkDescribeTableResult } from './sdk-types.js';

/** DescribeTable's `table_status` for a table in service. */
const TABLE_ACTIVE = 1;

/** One primary-key column a table must have. */
export interface PrimaryKeyColumn {
  readonly name: string;
  readonly type: 'STRING' | 'INTEGER' | 'BINARY';
  readonly autoIncrement?: boolean;
}

/** The primary key a kind of table needs, and what to call that kind in messages. */
export interface TableLayout {
  /** E.g. `'a timeline table'`. */
  readonly kind: string;
  /** The backend option that names these columns, e.g. `'columns'`. */
  readonly option: string;
  readonly primaryKey: readonly PrimaryKeyColumn[];
}

const TYPE_CODES: Readonly<Record<PrimaryKeyColumn['type'], number>> = { INTEGER: 1, STRING: 2, BINARY: 3 };
const typeName = (type: number): string => ({ 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' })[type] ?? `type ${type}`;
// protobufjs answers an absent optional enum with its first value (AUTO_INCREMENT) from the
// prototype: only an own property says the column really is auto-increment.
const autoIncrement = (c: object | undefined): boolean => c !== undefined && Object.hasOwn(c, 'option') && (c as { option?: unknown }).option === 1;
const describeColumn = (name: string, type: string, auto: boolean): string => `${name} ${type}${auto ? ' AUTO_INCREMENT' : ''}`;

/**
 * Creates the table if it is missing (the layout's primary key, max versions 1, the spec's TTL);
 * for an existing table, verifies the primary key and reconciles the TTL. The TTL of an existing
 * table is changed only when `onTtlMismatch: 'update'` is given: by default a mismatch rejects,
 * because shortening a table's TTL makes the service delete data.
 *
 * @throws {TableIncompatibleError} when the existing table's primary key differs, or its TTL differs and `onTtlMismatch` is not `'update'`.
 * @throws {BackendError} when the service fails.
 */
export async function ensureTableLayout(rt: Runtime, ctx: OperationContext, layout: TableLayout, spec: TableSpec, options: EnsureTableOptions | undefined): Promise<TableDescription> {
  let description = await describe(rt, ctx);
  let created = false;
  if (description === undefined) {
    try {
      await request(rt, ctx, () =>
        rt.client.createTable({
          tableMeta: {
            tableName: spec.table,
            primaryKey: layout.primaryKey.map((c) => ({ name: c.name, type: c.type, ...(c.autoIncrement === true ? { option: 'AUTO_INCREMENT' } : {}) })),
          },
          reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
          tableOptions: { timeToLive: spec.ttlSeconds, maxVersions: 1 },
        }),
      );
      created = true;
      log('created table %s (ttl %d)', spec.table, spec.ttlSeconds);
    } catch (error) {
      // Another process created it first: verify theirs like any existing table.
      if (!(error instanceof BackendError && error.backendCode === 'OTSObjectAlreadyExist')) throw error;
    }
    description = await describe(rt, ctx);
    if (description === undefined) {
      throw new BackendError(`table ${spec.table} was created but DescribeTable does not find it`, { operation: ctx.operation, table: spec.table, retryable: true });
    }
  }
  verifyLayout(spec.table, layout, description);
  // As above, an absent field would read as the prototype's 0: absent means the default, -1.
  const tableOptions = description.tableOptions;
  const ttl = tableOptions !== undefined && Object.hasOwn(tableOptions, 'timeToLive') && typeof tableOptions.timeToLive === 'number' ? tableOptions.timeToLive : -1;
  if (ttl === spec.ttlSeconds) return { table: spec.table, ttlSeconds: ttl, created, ttlUpdated: false };
  if (options?.onTtlMismatch !== 'update') {
    throw new TableIncompatibleError(
      `table ${spec.table} has a TTL of ${ttl} seconds but the store expects ${spec.ttlSeconds}; the table was left unchanged. ` +
        `Pass onTtlMismatch: 'update' to change the table's TTL to ${spec.ttlSeconds} (data older than the new TTL is then deleted by the service), or configure the store with ttlSeconds: ${ttl}`,
      { operation: 'init', table: spec.table },
    );
  }
  await request(rt, ctx, () => rt.client.updateTable({ tableName: spec.table, tableOptions: { timeToLive: spec.ttlSeconds } }));
  log('table %s: TTL changed from %d to %d seconds', spec.table, ttl, spec.ttlSeconds);
  return { table: spec.table, ttlSeconds: spec.ttlSeconds, created, ttlUpdated: true };
}

async function describe(rt: Runtime, ctx: OperationContext): Promise<SdkDescribeTableResult | undefined> {
  try {
    return await request(rt, ctx, () => rt.client.describeTable({ tableName: ctx.table }));
  } catch (error) {
    if (error instanceof BackendError && error.backendCode === 'OTSObjectNotExist') return undefined;
    throw error;
  }
}

function verifyLayout(table: string, layout: TableLayout, description: SdkDescribeTableResult): void {
  const pk = description.tableMeta?.primaryKey ?? [];
  const ok =
    pk.length === layout.primaryKey.length &&
    layout.primaryKey.every((want, i) => {
      const have = pk[i];
      return have?.name === want.name && have.type === TYPE_CODES[want.type] && autoIncrement(have) === (want.autoIncrement === true);
    });
  if (!ok) {
    const actual = pk.map((c) => describeColumn(c.name, typeName(c.type), autoIncrement(c))).join(', ');
    const wanted = layout.primaryKey.map((c) => describeColumn(c.name, c.type, c.autoIncrement === true)).join(', ');
    throw new TableIncompatibleError(
      `table ${table} has the primary key (${actual}) but ${layout.kind} needs (${wanted}); use another table name, or set the backend's \`${layout.option}\` option to match`,
      { operation: 'init', table },
    );
  }
  if (description.tableStatus !== undefined && description.tableStatus !== TABLE_ACTIVE) {
    log('table %s is not active yet (status %d); requests will retry OTSTableNotReady', table, description.tableStatus);
  }
}
