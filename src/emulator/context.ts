/**
 * What every API handler works on: one instance's tables ({@link Db}), the engine options, the
 * per-request hooks, and the replayable {@link LogRecord} each applied change becomes.
 *
 * @packageDocumentation
 */
import { tableNotExist } from './errors.js';
import type { CellVersion, PkValue, ResolvedWrite, TableDef } from './store.js';
import type { Table } from './table.js';

/** A persisted, replayable record of one applied change. `instance` is absent for the first (default) instance. */
export type LogRecord = (
  | { readonly t: 'createTable'; readonly def: TableDef }
  | { readonly t: 'updateTable'; readonly def: TableDef }
  | { readonly t: 'deleteTable'; readonly name: string }
  | { readonly t: 'write'; readonly writes: readonly { readonly table: string; readonly w: ResolvedWrite }[] }
  | {
      readonly t: 'restoreRow';
      readonly table: string;
      readonly pk: readonly PkValue[];
      readonly cells: readonly (readonly [string, readonly CellVersion[]])[];
      readonly marker: bigint | undefined;
    }
  | { readonly t: 'autoIncrement'; readonly table: string; readonly partition: string; readonly value: bigint }
) & { readonly instance?: string | undefined };

/** Per-request hooks from the HTTP layer. */
export interface RequestContext {
  /** Injected error for batch row `index` (request order), if any. */
  readonly rowError: (index: number) => { readonly code: string; readonly message: string } | undefined;
}

/** Engine construction options. */
export interface EngineOptions {
  /** Current time in milliseconds. */
  readonly now: () => bigint;
  /** Uniform `[0, 1)` generator for auto-increment gaps. */
  readonly random: () => number;
  /** Floor of every auto-increment value. */
  readonly autoIncrementStart?: bigint;
  /** Called once per applied change, before the response is sent (persistence). */
  readonly onRecord?: (rec: LogRecord) => void;
}

/** One instance's tables, as the API handlers see them. */
export interface Db {
  /** Tables by name. */
  readonly tables: Map<string, Table>;
  /** The engine options (clock, PRNG, auto-increment floor). */
  readonly opts: EngineOptions;
  /** Applies a change and hands it to persistence. */
  commit(rec: LogRecord): void;
  /** Hands an already applied change to persistence (BatchWriteRow applies row by row). */
  record(rec: LogRecord): void;
}

/** The named table, or `404 OTSObjectNotExist`. */
export function tableOf(db: Db, name: string): Table {
  const t = db.tables.get(name);
  if (!t) throw tableNotExist();
  return t;
}
