/**
 * The contract suites (timelines and keyed records) against a real TableStore instance. Opt-in: runs only when all four
 * variables are set, e.g.
 *
 *   TABLESTORE_ENDPOINT=https://my-instance.cn-hangzhou.ots.aliyuncs.com \
 *   TABLESTORE_INSTANCE=my-instance \
 *   TABLESTORE_ACCESS_KEY_ID=... TABLESTORE_ACCESS_KEY_SECRET=... \
 *   npx vitest run test/tablestore/real-instance.test.ts
 *
 * It creates tables named `contract_<random>` and `records_<random>` (the suite uses random names, and never deletes
 * them: drop them afterwards, or use a scratch instance). See docs/backends.md.
 */
import { afterAll, describe, it } from 'vitest';
import { TableStoreBackend, createRetryStrategy } from '../../src/backends/tablestore/index.js';
import { describeBackendContract, describeRecordContract } from '../../src/testing/index.js';

const env = {
  endpoint: process.env.TABLESTORE_ENDPOINT,
  instanceName: process.env.TABLESTORE_INSTANCE,
  accessKeyId: process.env.TABLESTORE_ACCESS_KEY_ID,
  accessKeySecret: process.env.TABLESTORE_ACCESS_KEY_SECRET,
};
const configured = Object.values(env).every((value) => typeof value === 'string' && value !== '');

const backend = (): TableStoreBackend =>
  new TableStoreBackend({
    endpoint: env.endpoint!,
    instanceName: env.instanceName!,
    accessKeyId: env.accessKeyId!,
    accessKeySecret: env.accessKeySecret!,
    // Room for OTSTableNotReady while a just-created table loads.
    retryStrategy: createRetryStrategy({ budgetMs: 30_000 }),
    ...(process.env.TABLESTORE_STS_TOKEN ? { stsToken: process.env.TABLESTORE_STS_TOKEN } : {}),
  });

if (configured) {
  describeBackendContract({ describe, it, afterAll }, {
    name: 'TableStoreBackend (real instance)',
    // A day of TTL cannot be waited for, and the service chooses its own seqs.
    honoursClock: false,
    honoursFirstSeq: false,
    // New tables take a moment to load on the service; every test creates some.
    timeout: 120_000,
    createBackend: backend,
  });
  // Keyed records (conditional writes, column conditions) on the real service.
  describeRecordContract({ describe, it, afterAll }, { name: 'TableStoreBackend.records (real instance)', honoursClock: false, timeout: 120_000, createBackend: backend });
} else {
  describe('TableStoreBackend (real instance)', () => {
    it.skip('needs TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE, TABLESTORE_ACCESS_KEY_ID and TABLESTORE_ACCESS_KEY_SECRET', () => {});
  });
}
