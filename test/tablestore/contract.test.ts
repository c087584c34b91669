import { afterAll, describe, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { TableStoreBackend, createRetryStrategy, type TableStoreBackendOptions } from '../../src/backends/tablestore/index.js';
import type { TimelineBackend } from '../../src/core/backend.js';
import { describeBackendContract, type ContractContext } from '../../src/testing/index.js';

// Each backend the suite creates gets its own in-process emulator, spoken to over real HTTP (by the
// wire path or the real SDK), with the suite's clock (for the TTL tests).
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

// Both transports run the whole contract: the official SDK's client (the default) and the wire path.
for (const transport of ['wire', 'sdk'] as const) {
  describeBackendContract({ describe, it, afterAll }, {
    name: `TableStoreBackend (emulator, ${transport} transport over HTTP)`,
    createBackend: factory({ transport }),
    destroyBackend,
  });

  describeBackendContract({ describe, it, afterAll }, {
    name: `TableStoreBackend with orderedBatches: true (emulator, ${transport} transport)`,
    createBackend: factory({ orderedBatches: true, transport }),
    destroyBackend,
  });
}
