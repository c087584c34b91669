import { afterAll, describe, it } from 'vitest';
import { MemoryBackend } from '../../src/index.js';
import { describeRecordContract } from '../../src/testing/index.js';

describeRecordContract({ describe, it, afterAll }, {
  name: 'MemoryBackend',
  createBackend: ({ now }) => new MemoryBackend({ now }),
});
