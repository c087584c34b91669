/**
 * Behaviour the emulator cannot provoke, driven through a look-alike client: the service numbering
 * the rows of one batch out of request order.
 */
import { describe, expect, it } from 'vitest';
import { TableStoreBackend } from '../../src/backends/tablestore/index.js';
import { loadTableStoreSdk } from '../../src/backends/tablestore/load-sdk.js';
import { fakeClient } from './helpers.js';

describe('orderedBatches verification', () => {
  it('keeps the rows of a batch numbered out of order, and stops declaring orderedBatches', async () => {
    const sdk = await loadTableStoreSdk();
    const seqs = [30n, 20n, 10n];
    const client = fakeClient({
      batchWriteRow: async (params: Record<string, unknown>) => {
        const rows = (params.tables as { rows: unknown[] }[])[0]!.rows;
        return {
          tables: rows.map((_, i) => ({
            isOk: true,
            primaryKey: [
              { name: 'timeline_id', value: 'bob' },
              { name: 'seq_id', value: sdk.Long.fromString(String(seqs[i])) },
            ],
          })),
        };
      },
    });
    const backend = new TableStoreBackend({ client, orderedBatches: true });
    expect(backend.capabilities.orderedBatches).toBe(true);
    const rows = ['a', 'b', 'c'].map((t) => ({ timelineId: 'bob', payload: new TextEncoder().encode(t) }));
    const results = await backend.append('t', rows);
    // Written once each, with the seqs the service chose: nothing lost, nothing re-sent.
    expect(results).toEqual([
      { ok: true, seq: 30n },
      { ok: true, seq: 20n },
      { ok: true, seq: 10n },
    ]);
    expect(backend.capabilities.orderedBatches).toBe(false);
    await backend.close();
  });
});
