// The conversation list: newest activity first, unread badges, read on one device and cleared on
// the others (their list, and a `read` event in their sync).
// Run: npx ts-node examples/conversation-list.ts
import { randomBytes } from 'node:crypto';
import { MemoryBackend, Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from '../src/index.js';

type Chat = { text: string };

async function main(): Promise<void> {
  let now = Date.UTC(2026, 0, 1);
  const backend = new MemoryBackend({ now: () => now });
  const messenger = new Messenger<Chat>({
    store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend, table: 'im_store' })),
    sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend, table: 'im_sync', ttlSeconds: 7 * 86_400 }), { cursorSecret: randomBytes(32), now: () => now }),
    largeGroupThreshold: 3,
    largeGroupsOf: (userId) => (['bob', 'carol', 'dave', 'erin'].includes(userId) ? ['group:all-hands'] : []),
    conversations: { unreadCap: 99 },
    now: () => now,
  });
  const send = async (conversationId: string, senderId: string, recipients: string[], text: string) => {
    now += 60_000;
    return messenger.send({ conversationId, senderId, recipients, message: { text }, messageId: randomBytes(8).toString('hex') });
  };
  const show = async (device: string) => {
    const { items } = await messenger.conversations('bob', { limit: 10 });
    console.log(`bob's list on his ${device}:`);
    for (const c of items) {
      const badge = c.unread === 0 ? '' : ` (${c.unread}${c.unreadCapped ? '+' : ''})`;
      console.log(`  ${c.conversationId.padEnd(16)} ${c.kind.padEnd(6)} ${c.diffusion}  ${c.lastMessage?.senderId}: ${c.lastMessage?.message.text}${badge}`);
    }
    return items;
  };

  await send('dm:alice:bob', 'alice', ['bob'], 'lunch?');
  await send('group:team', 'carol', ['bob', 'alice'], 'standup in 5');
  await send('group:all-hands', 'dave', ['bob', 'carol', 'erin'], 'release is out'); // read diffusion: no per-member write
  await send('dm:alice:bob', 'alice', ['bob'], 'at noon');
  await send('group:team', 'bob', ['carol', 'alice'], 'on my way'); // his own reply: nothing unread before it
  const laptopCursor = (await messenger.sync('bob')).cursor;

  const before = await show('laptop');
  const dm = before.find((c) => c.conversationId === 'dm:alice:bob')!;
  const marked = await messenger.markRead({ userId: 'bob', conversationId: dm.conversationId, seq: dm.lastMessage!.seq });
  console.log(`bob reads ${dm.conversationId} on his phone: advanced ${marked.advanced}, other devices notified ${marked.notified}`);

  const after = await show('laptop');
  const { events } = await messenger.sync('bob', { cursor: laptopCursor });
  console.log(`the laptop's next sync carries: ${events.map((e) => `${e.type} ${e.conversationId}`).join(', ')}`);

  // Receipts of a group message: the members other than its sender.
  const standup = after.find((c) => c.conversationId === 'group:team')!;
  await messenger.markRead({ userId: 'alice', conversationId: 'group:team', seq: standup.lastMessage!.seq });
  const { readBy, notReadBy } = await messenger.readReceipts({ conversationId: 'group:team', seq: standup.lastMessage!.seq, members: ['alice', 'carol'] });
  console.log(`receipt of bob's "on my way": read by ${readBy.join(', ')}; not yet by ${notReadBy!.join(', ')}`);

  const ok = before[0]?.conversationId === 'group:team' && dm.unread === 2 && after.find((c) => c.conversationId === dm.conversationId)?.unread === 0 && events.some((e) => e.type === 'read');
  console.log(ok ? 'badges cleared on every device' : 'UNEXPECTED RESULT');
  if (!ok) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
