import { Messenger, StoreTimeline, SyncTimeline, TimelineStore } from './src/index';
import { TableStoreBackend, createRetryStrategy } from './src/backends/tablestore/index';
import { startEmulator } from './src/emulator/index';
async function main() {
  const emu = await startEmulator({ port: 0, seed: 5 });
  const backend = new TableStoreBackend({ ...emu.connection(), retryStrategy: createRetryStrategy({ budgetMs: 1000, baseDelayMs: 1, maxDelayMs: 20 }) });
  const m = new Messenger<any>({ store: new StoreTimeline(new TimelineStore({ backend, table: 's' })), sync: new SyncTimeline(new TimelineStore({ backend, table: 'y', ttlSeconds: 86400 * 7 }), { cursorSecret: 'x'.repeat(32) }), largeGroupThreshold: Infinity });
  await m.init();
  emu.faults.inject({ code: 'OTSInternalServerError', status: 500, probability: 0.1 });
  const recipients = Array.from({ length: 30 }, (_, i) => `u${i}`);
  for (let i = 0; i < 40; i++) {
    const before = JSON.stringify(emu.stats().requests);
    let attempts = 0;
    for (;;) {
      attempts++;
      try { const r = await m.send({ conversationId: 'g', senderId: 'u0', recipients, message: { i }, messageId: `m${i}` }); if (r.fanOut.failed.length === 0) break; } catch (e: any) { if (attempts > 20) { console.log('give up', e.code); break; } }
    }
    const s = emu.stats().requests; 
    console.log(i, attempts, JSON.stringify(s));
  }
  await backend.close(); await emu.close();
}
main();
