import { afterAll, describe, it } from 'vitest';
import { TableStoreBackend, createRetryStrategy, type TableStoreBackendOptions } from '../../src/backends/tablestore/index.js';
import type { TimelineBackend } from '../../src/core/backend.js';
import { describeBackendContract, type ContractContext } from '../../src/testing/index.js';
import { startEmulatorProcess, type EmulatorProcess } from '../support/emulator-process.js';

// Each backend the suite creates gets its own emulator, spoken to over real HTTP (by the wire path
// or the real SDK). The emulator runs in a child process: in this one it would share the event
// loop with the client, and under 50 concurrent writers on a loaded machine a request on a new
// connection waited there (not yet accepted, then not yet read) behind every other request's client
// and server work, past the 10 s request timeout. The child's clock is the suite's: it starts
// at the suite's instant, stands still, and moves by the suite's steps (for the TTL tests).
const emulators = new Map<TimelineBackend, { emu: EmulatorProcess; stopClock: () => void }>();

function factory(options: Partial<TableStoreBackendOptions>): (context: ContractContext) => Promise<TimelineBackend> {
  return async ({ now, onClockAdvance, firstSeq }) => {
    const emu = await startEmulatorProcess({ clockStartMs: now(), autoIncrementStart: firstSeq });
    const stopClock = onClockAdvance((ms) => emu.advanceClock(ms));
    const backend = new TableStoreBackend({
      ...emu.connection(),
      retryStrategy: createRetryStrategy({ budgetMs: 2000, baseDelayMs: 1, maxDelayMs: 20 }),
      ...options,
    });
    emulators.set(backend, { emu, stopClock });
    return backend;
  };
}

const destroyBackend = async (backend: TimelineBackend): Promise<void> => {
  const entry = emulators.get(backend);
  emulators.delete(backend);
  entry?.stopClock();
  await entry?.emu.close();
};

// Both transports run the whole contract: the official SDK's client (the default) and the wire path.
for (const transport of ['wire', 'sdk'] as const) {
  describeBackendContract({ describe, it, afterAll }, {
    name: `TableStoreBackend (emulator process, ${transport} transport over HTTP)`,
    createBackend: factory({ transport }),
    destroyBackend,
  });

  describeBackendContract({ describe, it, afterAll }, {
    name: `TableStoreBackend with orderedBatches: true (emulator process, ${transport} transport)`,
    createBackend: factory({ orderedBatches: true, transport }),
    destroyBackend,
  });
}
