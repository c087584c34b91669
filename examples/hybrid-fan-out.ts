// Hybrid fan-out: write diffusion for ordinary groups, read diffusion above a size threshold, and a
// sync that merges a user's inbox with the large groups they belong to.
// Run: npx ts-node examples/hybrid-fan-out.ts
import { randomBytes } from 'node:crypto';
import { MemoryBackend, Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from '../src/index.js';

async function main(): Promise<void> {
  let now = Date.UTC(2026, 0, 1);
  const backend = new MemoryBackend({ now: () => now });
  const sync = new SyncTimeline(new TimelineStore<InboxMessage<string>>({ backend, table: 'im_sync', ttlSeconds: 7 * 86_400 }), { cursorSecret: randomBytes(32), now: () => now });
  const store = new StoreTimeline(new TimelineStore<StoredMessage<string>>({ backend, table: 'im_store' }));
  const team = ['ann', 'ben', 'cat', 'dan'];
  const company = ['ann', ...Array.from({ length: 4999 }, (_, i) => `emp${i}`)];
  const messenger = new Messenger<string>({
    store,
    sync,
    largeGroupThreshold: 500,
    largeGroupsOf: (userId) => (userId === 'ann' || userId.startsWith('emp') ? ['group:company'] : []),
    now: () => now,
  });

  const first = await messenger.sync('ann'); // ann's device starts tracking group:company
  const small = await messenger.send({ conversationId: 'group:team', senderId: 'ben', recipients: team, message: 'standup in 5', messageId: 't-1' });
  console.log(`group:team (${team.length} members): ${small.mode} diffusion, ${small.fanOut.delivered.length} inbox rows written`);
  now += 1000;
  const big = await messenger.send({ conversationId: 'group:company', senderId: 'dan', recipients: company, message: 'quarterly results are out', messageId: 'c-1' });
  console.log(`group:company (${company.length} members): ${big.mode} diffusion, ${big.fanOut.delivered.length} inbox rows written (write diffusion would write ${company.length})`);
  console.log(`rows stored: message store ${backend.size('im_store')}, sync store ${backend.size('im_sync')}`);

  const r = await messenger.sync('ann', { cursor: first.cursor });
  console.log(`ann syncs once and gets both, merged by send time:`);
  for (const e of r.entries) console.log(`  [${e.conversationId}] ${e.senderId}: ${e.message}`);
  const again = await messenger.sync('ann', { cursor: r.cursor });
  console.log(`ann syncs again: ${again.entries.length} new entries`);
  console.log('raise largeGroupThreshold when large-group reads dominate syncs; lower it when fan-out writes dominate (docs/capacity.md).');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
