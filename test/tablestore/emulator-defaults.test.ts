/** The snippet of docs/backends.md: a backend built from EMULATOR_DEFAULTS reaches an emulator started with its defaults. */
import { expect, it } from 'vitest';
import { EMULATOR_DEFAULTS, startEmulator } from '../../src/emulator/index.js';
import { TableStoreBackend } from '../../src/backends/tablestore/index.js';
import { tableName } from './helpers.js';

it('EMULATOR_DEFAULTS hold the instance name and credentials of an emulator started with defaults', async () => {
  const emu = await startEmulator({ port: 0 });
  const { host, instanceName, accessKeyId, accessKeySecret } = EMULATOR_DEFAULTS;
  const backend = new TableStoreBackend({ endpoint: `http://${host}:${emu.port}`, instanceName, accessKeyId, accessKeySecret });
  try {
    const table = tableName();
    expect(await backend.ensureTable({ table, ttlSeconds: -1 })).toMatchObject({ table, created: true });
  } finally {
    await backend.close();
    await emu.close();
  }
});
