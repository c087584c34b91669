// The source article's sample, rewritten with this library: two tables (PushTable for sync with a
// TTL, StoreTable for history), a group of members A to E, five messages, a member's sync and the
// group's history. The article writes one row per request, member after member; here each message
// is one PutRow to the store and one BatchWriteRow for all five inboxes.
// Run: npx ts-node examples/article-sample.ts   (TableStore backend against a local emulator)
import { randomBytes } from 'node:crypto';
import { Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from '../src/index.js';
import { TableStoreBackend } from '../src/backends/tablestore/index.js';
import { startEmulator } from '../src/emulator/index.js';

async function main(): Promise<void> {
  const emu = await startEmulator({ port: 0 });
  const backend = new TableStoreBackend(emu.connection());
  try {
    // The article's tables: (timeline_id STRING, seq_id INTEGER AUTO_INCREMENT), max versions 1.
    const storeTable = new TimelineStore<StoredMessage<string>>({ backend, table: 'StoreTable' });
    const pushTable = new TimelineStore<InboxMessage<string>>({ backend, table: 'PushTable', ttlSeconds: 7 * 86_400 });
    await Promise.all([storeTable.init(), pushTable.init()]);
    const messenger = new Messenger<string>({
      store: new StoreTimeline(storeTable),
      sync: new SyncTimeline(pushTable, { cursorSecret: randomBytes(32) }),
      largeGroupThreshold: Number.POSITIVE_INFINITY, // a group of five: always write diffusion
      deliverToSender: false, // as in the article: the five members' inboxes, the sender's included because it is a member
    });
    const members = ['A', 'B', 'C', 'D', 'E'];
    const group = 'group_1';
    const before = { ...emu.stats().requests };
    for (let i = 1; i <= 5; i++) {
      const sender = members[(i - 1) % members.length]!;
      const sent = await messenger.send({ conversationId: group, senderId: sender, recipients: members, message: `message ${i} from ${sender}`, messageId: `${group}-${i}` });
      console.log(`${sender} sent "message ${i}": StoreTable seq ${sent.entry.seq}, written to ${sent.fanOut.delivered.length} PushTable timelines`);
    }
    const after = emu.stats().requests;
    const writes = (api: string): number => (after[api] ?? 0) - (before[api] ?? 0);
    console.log(`requests for 5 messages x 5 members: ${writes('PutRow')} PutRow + ${writes('BatchWriteRow')} BatchWriteRow (the article's loop: 5 + 25 PutRow)`);

    const sync = await messenger.sync('C');
    console.log(`\nmember C syncs its PushTable timeline from the start: ${sync.entries.length} messages`);
    for (const e of sync.entries) console.log(`  [${e.conversationId}] ${e.senderId}: ${e.message}`);

    console.log(`\nthe group's history from StoreTable (oldest first):`);
    const history = await messenger.history(group, { limit: 50 });
    for (const e of [...history.entries].reverse()) console.log(`  seq ${e.seq} ${e.senderId}: ${e.message}`);
    console.log(`rows: ${JSON.stringify(emu.stats().rows)}`);
  } finally {
    await backend.close();
    await emu.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
