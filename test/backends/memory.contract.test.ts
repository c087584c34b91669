import { afterAll, describe, it } from 'vitest';
import { MemoryBackend } from '../../src/index.js';
import { describeBackendContract } from '../../src/testing/index.js';

describeBackendContract({ describe, it, afterAll }, {
  name: 'MemoryBackend',
  createBackend: ({ now, firstSeq }) => new MemoryBackend({ now, firstSeq, maxBatchRows: 200 }),
});
