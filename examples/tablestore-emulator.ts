// The TableStore backend against the local emulator (the official SDK over real HTTP), and how to
// point the same code at a real instance.
// Run: npx ts-node examples/tablestore-emulator.ts
//
// For a real instance, build the backend from your instance's settings instead:
//   new TableStoreBackend({
//     endpoint: 'https://<instance>.<region>.ots.aliyuncs.com',
//     instanceName: '<instance>',
//     accessKeyId: process.env.TABLESTORE_ACCESS_KEY_ID,
//     accessKeySecret: process.env.TABLESTORE_ACCESS_KEY_SECRET,
//   })
// and `npm install tablestore` next to this library. Nothing else changes.
import { TimelineStore } from '../src/index.js';
import { TableStoreBackend } from '../src/backends/tablestore/index.js';
import { startEmulator } from '../src/emulator/index.js';

async function main(): Promise<void> {
  const emu = await startEmulator({ port: 0 });
  console.log(`emulator at ${emu.endpoint} (instance ${emu.instanceName})`);
  const backend = new TableStoreBackend(emu.connection());
  try {
    const store = new TimelineStore<{ text: string }>({ backend, table: 'im_sync', ttlSeconds: 7 * 86_400 });
    const init = await store.init();
    console.log(`init: table ${init.table} created=${init.created}, TTL ${init.ttlSeconds} s`);
    const tl = store.timeline('user:bob');
    const one = await tl.append({ text: 'hello' }, { messageId: 'm-1' });
    console.log(`append -> PutRow with PK_AUTO_INCR: seq ${one.seq} (exact bigint)`);
    const many = await store.appendBatch(Array.from({ length: 450 }, (_, i) => ({ timelineId: `user:${i}`, message: { text: 'broadcast' }, messageId: 'b-1' })));
    console.log(`appendBatch of 450 rows -> ${emu.stats().requests.BatchWriteRow} BatchWriteRow requests (200 rows max each); ${many.filter((o) => o.ok).length} ok`);

    emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSServerBusy', times: 2 });
    const retried = await store.appendBatch([{ timelineId: 'user:x', message: { text: 'retried' } }, { timelineId: 'user:y', message: { text: 'retried' } }]);
    console.log(`with 2 injected OTSServerBusy answers: ${retried.filter((o) => o.ok).length}/2 rows written after retries (${emu.stats().faults.BatchWriteRow} faults fired)`);

    emu.faults.inject({ api: 'PutRow', drop: 'after-apply', times: 1 });
    const ambiguous = await tl.append({ text: 'response lost' }, { messageId: 'm-2' });
    let count = 0;
    for await (const e of tl.scan()) if (e.messageId === 'm-2') count += 1;
    console.log(`write applied but response dropped: settled as seq ${ambiguous.seq}; entries with messageId m-2: ${count}`);

    let scanned = 0;
    for await (const _ of tl.scan({ direction: 'backward' })) scanned += 1;
    console.log(`backward scan: ${scanned} entries; requests so far: ${JSON.stringify(emu.stats().requests)}`);
  } finally {
    await backend.close();
    await emu.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
