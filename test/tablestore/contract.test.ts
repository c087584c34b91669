import { afterAll, describe, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { TableStoreBackend, createRetryStrategy, type TableStoreBackendOptions } from '../../src/backends/tablestore/index.js';
import type { TimelineBackend } from '../../src/core/backend.js';
import { describeBackendContract, type ContractContext } from '../../src/testing/index.js';

// Each backend the suite creates gets its own in-process emulator, spoken to over real HTTP by the
// real SDK, with the suite's clock (for the TTL tests).
const emulators = new Map<TimelineBackend, Emulator>();

function factory(options: Partial<TableStoreBackendOptions>): (context: ContractContext) => Promise<TimelineBackend> {
  return async ({ now, firstSeq }) => {
    const emu = await startEmulator({ port: 0, clock: now, autoIncrementStart: firstSeq });
    const backend = new TableStoreBackend({
      ...emu.connection(),
      retryStrategy: createRetryStrategy({ budgetMs: 2000, baseDelayMs: 1, maxDelayMs: 20 }),
      ...options,
    });
    emulators.set(backend, emu);
    return backend;
  };
}

const destroyBackend = async (backend: TimelineBackend): Promise<void> => {
  await emulators.get(backend)?.close();
  emulators.delete(backend);
};

describeBackendContract({ describe, it, afterAll }, {
  name: 'TableStoreBackend (emulator, real SDK over HTTP)',
  createBackend: factory({}),
  destroyBackend,
});

describeBackendContract({ describe, it, afterAll }, {
  name: 'TableStoreBackend with orderedBatches: true (emulator)',
  createBackend: factory({ orderedBatches: true }),
  destroyBackend,
});
