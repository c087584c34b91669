import { afterAll, describe, it } from 'vitest';
import { TableStoreBackend, createRetryStrategy } from '../../src/backends/tablestore/index.js';
import type { TimelineBackend } from '../../src/core/backend.js';
import { describeRecordContract } from '../../src/testing/index.js';
import { startEmulatorProcess, type EmulatorProcess } from '../support/emulator-process.js';

// The records capability on both transports (the wire path and the real SDK), over HTTP, against an
// emulator in a child process (so that the client's work never delays its answers: see
// contract.test.ts) whose clock is the suite's (for the TTL test).
for (const transport of ['wire', 'sdk'] as const) {
  let emu: EmulatorProcess | undefined;
  let stopClock: (() => void) | undefined;
  describeRecordContract({ describe, it, afterAll }, {
    name: `TableStoreBackend.records (emulator process, ${transport} transport over HTTP)`,
    createBackend: async ({ now, onClockAdvance }): Promise<TimelineBackend> => {
      const started = await startEmulatorProcess({ clockStartMs: now() });
      emu = started;
      stopClock = onClockAdvance((ms) => started.advanceClock(ms));
      return new TableStoreBackend({ ...started.connection(), transport, retryStrategy: createRetryStrategy({ budgetMs: 2000, baseDelayMs: 1, maxDelayMs: 20 }) });
    },
    destroyBackend: async () => {
      stopClock?.();
      await emu?.close();
    },
  });
}
