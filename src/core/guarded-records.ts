import type { EnsureTableOptions, TableDescription, TableSpec } from './backend.js';
import type { RecordBackend, RecordCallOptions, RecordScanPage, RecordScanRequest, RecordWrite, RecordWriteResult, StoredRecord } from './records.js';
import { ValidationError } from './errors.js';

/** Runs one backend call under the guard's closed, abort and error-wrapping rules. */
export type GuardedCall = <R>(operation: string, table: string, signal: AbortSignal | undefined, run: () => Promise<R>) => Promise<R>;

/**
 * The record side of {@link GuardedBackend}: the same closed, abort and error rules as timeline
 * calls, and a check that a backend answers one result per write (a result list that does not line
 * up cannot say which record was written).
 */
export function guardRecords(inner: RecordBackend, call: GuardedCall): RecordBackend {
  return {
    get recordLimits() {
      return inner.recordLimits;
    },
    ensureRecordTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
      return call('init', spec.table, options?.signal, () => inner.ensureRecordTable(spec, options));
    },
    async writeRecords(table: string, writes: readonly RecordWrite[], options?: RecordCallOptions): Promise<RecordWriteResult[]> {
      const results = await call('writeRecords', table, options?.signal, () => inner.writeRecords(table, writes, options));
      if (!Array.isArray(results) || results.length !== writes.length) {
        throw new ValidationError('writes', `the backend answered ${Array.isArray(results) ? results.length : 0} results for ${writes.length} record writes`);
      }
      return results;
    },
    getRecord(table: string, partition: string, key: string, options?: RecordCallOptions): Promise<StoredRecord | undefined> {
      return call('getRecord', table, options?.signal, () => inner.getRecord(table, partition, key, options));
    },
    scanRecords(table: string, request: RecordScanRequest): Promise<RecordScanPage> {
      return call('scanRecords', table, request.signal, () => inner.scanRecords(table, request));
    },
  };
}
