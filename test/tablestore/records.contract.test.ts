import { afterAll, describe, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { TableStoreBackend, createRetryStrategy } from '../../src/backends/tablestore/index.js';
import type { TimelineBackend } from '../../src/core/backend.js';
import { describeRecordContract } from '../../src/testing/index.js';

// The records capability on both transports (the wire path and the real SDK), over HTTP, against an in-process emulator that
// uses the suite's clock (for the TTL test).
for (const transport of ['wire', 'sdk'] as const) {
  let emu: Emulator | undefined;
  describeRecordContract({ describe, it, afterAll }, {
    name: `TableStoreBackend.records (emulator, ${transport} transport over HTTP)`,
    createBackend: async ({ now }): Promise<TimelineBackend> => {
      emu = await startEmulator({ port: 0, clock: now });
      return new TableStoreBackend({ ...emu.connection(), transport, retryStrategy: createRetryStrategy({ budgetMs: 2000, baseDelayMs: 1, maxDelayMs: 20 }) });
    },
    destroyBackend: async () => {
      await emu?.close();
    },
  });
}
