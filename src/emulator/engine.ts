/**
 * The TableStore semantics behind the HTTP layer: routes each API call of an instance to its
 * handler, keeps every instance's tables, and applies or replays the {@link LogRecord}s that
 * persistence stores.
 *
 * The handlers live in one file per role: {@link ./table-admin.ts} (tables), {@link ./row-writes.ts}
 * and {@link ./row-changes.ts} (writes, conditions, counters), {@link ./reads.ts} (reads, filters,
 * paging), {@link ./batch-write.ts}, {@link ./primary-keys.ts} and {@link ./conditions.ts}. Errors are
 * thrown as {@link OtsError}; the HTTP layer turns them into `Error{code,message}`.
 *
 * @packageDocumentation
 */
import { batchWriteRow } from './batch-write.js';
import type { Db, EngineOptions, LogRecord, RequestContext } from './context.js';
import type { SupportedApi } from './limits.js';
import { batchGetRow, getRange, getRow } from './reads.js';
import { deleteRow, putRow, updateRow } from './row-writes.js';
import { isRowVisible, type PkValue } from './store.js';
import { Table } from './table.js';
import { createTable, deleteTable, describeTable, listTable, updateTable } from './table-admin.js';
import { columnMap } from './stored-row.js';

export { LIMITS, SUPPORTED_APIS, type EmulatorLimits, type SupportedApi } from './limits.js';
export type { EngineOptions, LogRecord, RequestContext } from './context.js';

/** The partition value a persisted `pkKey([value])` names (`i<decimal>` or `b<base64>`). */
function partitionValue(key: string): PkValue {
  return key.startsWith('i') ? BigInt(key.slice(1)) : Buffer.from(key.slice(1), 'base64');
}

/** The TableStore API implementation over in-memory tables, one set of tables per instance. */
export class Engine {
  readonly #opts: EngineOptions;
  readonly #instances = new Map<string, Db>();
  readonly #defaultInstance: string;

  /**
   * @param opts - clock, PRNG, auto-increment floor and the persistence hook.
   * @param defaultInstance - the instance whose log records carry no `instance` field (the
   *   first configured one), so that a log written with one instance replays into it whatever it
   *   is called now.
   */
  constructor(opts: EngineOptions, defaultInstance = '') {
    this.#opts = opts;
    this.#defaultInstance = defaultInstance;
  }

  /** Tables of the default instance, by name. */
  get tables(): ReadonlyMap<string, Table> {
    return this.#db(this.#defaultInstance).tables;
  }

  /** Drops every table of every instance. */
  clear(): void {
    this.#instances.clear();
  }

  /**
   * Rows visible now, per table: the default instance's tables by name, other instances' as
   * `<instance>/<table>` (a table name never holds a slash).
   */
  visibleRows(): Record<string, number> {
    const now = this.#opts.now();
    const out: Record<string, number> = {};
    for (const [instance, db] of this.#instances) {
      for (const [name, t] of db.tables) {
        let n = 0;
        for (const r of t.rows()) if (isRowVisible(r, t.def.options, now)) n++;
        out[instance === this.#defaultInstance ? name : `${instance}/${name}`] = n;
      }
    }
    return out;
  }

  /**
   * Handles one API call of an instance and returns the encoded response body.
   *
   * @throws {@link OtsError} for every service error.
   */
  handle(api: SupportedApi, body: Buffer, ctx: RequestContext, instance: string = this.#defaultInstance): Buffer {
    const db = this.#db(instance);
    switch (api) {
      case 'CreateTable':
        return createTable(db, body);
      case 'ListTable':
        return listTable(db, body);
      case 'DescribeTable':
        return describeTable(db, body);
      case 'UpdateTable':
        return updateTable(db, body);
      case 'DeleteTable':
        return deleteTable(db, body);
      case 'GetRow':
        return getRow(db, body);
      case 'PutRow':
        return putRow(db, body);
      case 'UpdateRow':
        return updateRow(db, body);
      case 'DeleteRow':
        return deleteRow(db, body);
      case 'GetRange':
        return getRange(db, body);
      case 'BatchGetRow':
        return batchGetRow(db, body, ctx);
      case 'BatchWriteRow':
        return batchWriteRow(db, body, ctx);
    }
  }

  /** Applies a record without logging it (replay) or after logging it (live). */
  applyRecord(rec: LogRecord): void {
    const tables = this.#db(rec.instance ?? this.#defaultInstance).tables;
    switch (rec.t) {
      case 'createTable':
        tables.set(rec.def.name, new Table(rec.def));
        return;
      case 'updateTable': {
        const t = tables.get(rec.def.name);
        if (t) t.def = rec.def;
        return;
      }
      case 'deleteTable':
        tables.delete(rec.name);
        return;
      case 'write':
        for (const { table, w } of rec.writes) tables.get(table)?.apply(w);
        return;
      case 'restoreRow':
        tables.get(rec.table)?.restore({ pk: rec.pk, cells: new Map(rec.cells), marker: rec.marker });
        return;
      case 'autoIncrement': {
        tables.get(rec.table)?.raiseAutoIncrement(partitionValue(rec.partition), rec.value);
        return;
      }
    }
  }

  /** The current state as records (log compaction). */
  *snapshot(): Generator<LogRecord> {
    for (const [name, db] of this.#instances) {
      const instance = name === this.#defaultInstance ? undefined : name;
      for (const t of db.tables.values()) {
        yield { t: 'createTable', def: t.def, instance };
        for (const [partition, value] of t.autoIncrementCounters()) yield { t: 'autoIncrement', table: t.def.name, partition, value, instance };
        for (const r of t.rows()) yield { t: 'restoreRow', table: t.def.name, pk: r.pk, cells: [...columnMap(r.cells)], marker: r.marker, instance };
      }
    }
  }

  #db(instance: string): Db {
    let db = this.#instances.get(instance);
    if (!db) {
      const tag = instance === this.#defaultInstance ? undefined : instance;
      const record = (rec: LogRecord): void => this.#opts.onRecord?.(tag === undefined ? rec : { ...rec, instance: tag });
      db = {
        tables: new Map(),
        opts: this.#opts,
        commit: (rec) => {
          this.applyRecord(tag === undefined ? rec : { ...rec, instance: tag });
          record(rec);
        },
        record,
      };
      this.#instances.set(instance, db);
    }
    return db;
  }
}
