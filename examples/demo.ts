// The narrated demo: a group chat on the in-memory default, or (--backend emulator) the same through
// the official TableStore SDK against an in-process emulator, with the requests each step cost.
//
//   npm run demo                          # in-memory backend
//   npm run demo -- --backend emulator    # real SDK over HTTP to the local TableStore emulator
import { randomBytes } from 'node:crypto';
import {
  Messenger,
  StoreTimeline,
  SyncTimeline,
  TimelineStore,
  type InboxMessage,
  type MessengerEntry,
  type StoredMessage,
  type TimelineBackend,
} from '../src/index.js';
import { parseDemoArgs, startDemoBackend, type DemoBackend } from './demo-backends.js';

interface Chat {
  text: string;
}

const DAY = 86_400_000;

async function main(): Promise<void> {
  const args = parseDemoArgs(process.argv.slice(2));
  if (args === undefined) return;
  // A simulated clock: the stale-cursor step moves it 8 days ahead instead of waiting.
  let now = Date.UTC(2026, 10, 22, 9, 0, 0);
  const clock = (): number => now;
  const env: DemoBackend = await startDemoBackend(args.backend, clock);
  try {
    await run(env.backend, clock, (ms) => (now += ms), env);
  } finally {
    await env.close();
  }
}

async function run(backend: TimelineBackend, clock: () => number, advance: (ms: number) => void, env: DemoBackend): Promise<void> {
  const history = new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend, table: 'demo_store' }));
  const inboxes = new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend, table: 'demo_sync', ttlSeconds: 7 * 86_400 }), {
    cursorSecret: randomBytes(32),
    now: clock,
  });
  const townHall = Array.from({ length: 2000 }, (_, i) => (i < 5 ? ['A', 'B', 'C', 'D', 'E'][i]! : `user${i}`));
  const messenger = new Messenger<Chat>({
    store: history,
    sync: inboxes,
    largeGroupThreshold: 500,
    // The app knows which large groups a user is in; here only the 2,000-member town hall.
    largeGroupsOf: (userId) => (townHall.includes(userId) ? ['group:town-hall'] : []),
    // The conversation list: per-user list rows and read positions in a record table.
    conversations: {},
    now: clock,
  });
  const group = ['A', 'B', 'C', 'D', 'E'];
  const line = (text: string): void => console.log(text);
  const step = async <R>(title: string, fn: () => Promise<R>): Promise<R> => {
    line(`\n== ${title}`);
    const before = env.requests();
    const result = await fn();
    const cost = env.describeCost(before);
    if (cost) line(`   cost: ${cost}`);
    return result;
  };
  const show = (e: MessengerEntry<Chat>): string => `${e.senderId}: "${e.message.text}" (seq ${e.seq})`;

  line(`tablestore-timeline demo on the ${env.label}`);
  await step('Setting up: a message store (no TTL) and a sync store (7-day TTL)', async () => {
    await history.store.init();
    await inboxes.store.init();
    line('   tables demo_store and demo_sync are ready');
  });

  const texts = ['Hi all, the launch is on Friday', 'Great news!', 'Who is preparing the slides?', 'I can do it', 'Thanks B, ping me if you need data'];
  const senders = ['A', 'B', 'C', 'B', 'A'];
  // B's devices: the phone syncs now (an empty inbox), the laptop and the tablet only later.
  const devices: Record<string, string | undefined> = { phone: undefined, laptop: undefined, tablet: undefined };
  const launchSeqs: bigint[] = [];
  await step('B\'s phone syncs once before the chat starts (its inbox is empty)', async () => {
    const r = await messenger.sync('B');
    devices.phone = r.cursor;
    line(`   phone: ${r.entries.length} entries, keeps cursor ${r.cursor.slice(0, 12)}…`);
  });

  await step('A\'s group of five chats: each message is stored once, then written to every member\'s inbox', async () => {
    for (const [i, text] of texts.entries()) {
      advance(60_000);
      const sent = await messenger.send({
        conversationId: 'group:launch',
        senderId: senders[i]!,
        recipients: group,
        message: { text },
        messageId: `launch-${i + 1}`,
      });
      launchSeqs.push(sent.entry.seq);
      line(
        `   ${senders[i]} -> group:launch seq ${sent.entry.seq}: ${sent.mode} diffusion, ${sent.fanOut.delivered.length} inboxes written, ${sent.fanOut.failed.length} failed`,
      );
    }
    const again = await messenger.send({ conversationId: 'group:launch', senderId: 'A', recipients: group, message: { text: texts[4]! }, messageId: 'launch-5' });
    line(`   A's client retries launch-5 (same messageId): duplicate=${again.duplicate}, still seq ${again.entry.seq}, nothing new written`);
  });

  await step('B\'s three devices sync independently, each from its own cursor', async () => {
    const phone = await messenger.sync('B', { cursor: devices.phone });
    devices.phone = phone.cursor;
    line(`   phone:  ${phone.entries.length} new entries in 1 sync`);
    for (const e of phone.entries) line(`           ${show(e)}`);
    const laptop = await messenger.sync('B', { limit: 3 });
    const laptop2 = await messenger.sync('B', { cursor: laptop.cursor, limit: 3 });
    devices.laptop = laptop2.cursor;
    line(`   laptop: ${laptop.entries.length} + ${laptop2.entries.length} entries in 2 syncs of limit 3 (hasMore was ${laptop.hasMore}, then ${laptop2.hasMore})`);
    let tabletCount = 0;
    let tabletSyncs = 0;
    let cursor: string | undefined;
    for (;;) {
      const r = await messenger.sync('B', { cursor, limit: 2 });
      tabletSyncs += 1;
      tabletCount += r.entries.length;
      cursor = r.cursor;
      if (!r.hasMore) break;
    }
    devices.tablet = cursor;
    line(`   tablet: ${tabletCount} entries in ${tabletSyncs} syncs of limit 2`);
    const again = await messenger.sync('B', { cursor: devices.phone });
    line(`   phone syncs again: ${again.entries.length} new entries (nothing repeated)`);
  });

  await step('C gets a new device: it roams the group history, newest first, a page at a time', async () => {
    let before: bigint | undefined;
    let pageNo = 0;
    for (;;) {
      const page = await messenger.history('group:launch', { before, limit: 2 });
      pageNo += 1;
      line(`   page ${pageNo}: ${page.entries.map((e) => `"${e.message.text}"`).join(', ')}${page.hasMore ? '' : ' (start of history)'}`);
      if (!page.hasMore || page.next === undefined) break;
      before = page.next;
    }
  });

  const memberCursor = await step('B syncs before the 2,000-member town hall gets a message', async () => {
    const r = await messenger.sync('B', { cursor: devices.laptop });
    devices.laptop = r.cursor;
    line(`   laptop: ${r.entries.length} new entries; its cursor now also tracks group:town-hall`);
    return r.cursor;
  });

  let hallSeq = 0n;
  await step('A posts to the 2,000-member town hall: read diffusion (over the 500 threshold)', async () => {
    advance(60_000);
    const sent = await messenger.send({
      conversationId: 'group:town-hall',
      senderId: 'A',
      recipients: townHall,
      message: { text: 'All hands at 3pm' },
      messageId: 'hall-1',
    });
    hallSeq = sent.entry.seq;
    line(`   stored once at seq ${sent.entry.seq}: ${sent.mode} diffusion, ${sent.fanOut.delivered.length} inbox writes instead of ${townHall.length}`);
  });

  await step('B\'s laptop syncs: the merge of its inbox and the town hall brings the post', async () => {
    const r = await messenger.sync('B', { cursor: memberCursor });
    devices.laptop = r.cursor;
    for (const e of r.entries) line(`   laptop: [${e.conversationId}] ${show(e)}`);
    line(`   ${r.entries.length} entry reached B through its sync, without a write to B's inbox`);
    const other = await messenger.sync('user1234', {});
    line(`   user1234 (a member who never synced) starts at the group's latest entry: ${other.entries.length} entries, then follows new posts`);
  });

  const showList = async (device: string): Promise<void> => {
    const { items } = await messenger.conversations('B');
    for (const c of items) {
      const badge = c.unread === 0 ? '' : ` (${c.unread}${c.unreadCapped ? '+' : ''} unread)`;
      line(`   ${device}: ${c.conversationId.padEnd(16)} ${c.lastMessage?.senderId}: "${c.lastMessage?.message.text}"${badge}`);
    }
  };
  await step('B opens the conversation list on the laptop: newest activity first, with unread badges', async () => {
    await showList('laptop');
    line("   (B's own reply in group:launch counts as read: only A's later message is unread)");
  });

  await step('B reads both conversations on the phone; the laptop clears its badges through sync', async () => {
    for (const conversationId of ['group:launch', 'group:town-hall']) {
      const newest = (await messenger.history(conversationId, { limit: 1 })).entries[0]!;
      const marked = await messenger.markRead({ userId: 'B', conversationId, seq: newest.seq });
      line(`   phone: markRead ${conversationId} up to seq ${marked.seq}`);
    }
    const r = await messenger.sync('B', { cursor: devices.laptop });
    devices.laptop = r.cursor;
    line(`   laptop's next sync: events [${r.events.map((e) => `${e.type} ${e.conversationId}`).join(', ')}]`);
    await showList('laptop');
  });

  await step('A edits a typo in launch-5: the stored message changes in place, each inbox gets an edit event', async () => {
    advance(60_000);
    const edited = await messenger.edit({
      conversationId: 'group:launch',
      seq: launchSeqs[4]!,
      by: 'A',
      requestId: 'edit-launch-5',
      message: { text: 'Thanks B, ping me if you need any data' },
    });
    line(`   revision ${edited.entry.revision}, editCount ${edited.entry.editCount}: ${edited.fanOut.delivered.length} inboxes got the '${edited.event?.type}' event (recipients from the send journal)`);
    const r = await messenger.sync('B', { cursor: devices.phone });
    devices.phone = r.cursor;
    for (const ev of r.events) if (ev.type === 'edit') line(`   B's phone: ${r.entries.length} new message(s), then event '${ev.type}' of seq ${ev.seq}: now "${ev.message.text}"`);
    const top = (await messenger.history('group:launch', { limit: 1 })).entries[0]!;
    line(`   history shows the final state: "${top.message.text}" (edited at ${new Date(top.editedAt!).toISOString()})`);
  });

  await step('A recalls the town-hall post within the 2-minute window: one event entry in the group timeline', async () => {
    advance(30_000);
    const recalled = await messenger.recall({ conversationId: 'group:town-hall', seq: hallSeq, by: 'A', requestId: 'recall-hall-1' });
    line(`   ${recalled.mode} diffusion: the post is now a tombstone at seq ${recalled.entry.seq} (recalled by ${recalled.entry.recalled?.by}), ${recalled.fanOut.delivered.length} inbox writes`);
    const r = await messenger.sync('B', { cursor: devices.laptop });
    devices.laptop = r.cursor;
    line(`   B's laptop: ${r.entries.length} new message(s), events [${r.events.map((e) => `${e.type} ${e.conversationId}#${e.seq}`).join(', ')}]`);
    const late = await messenger.recall({ conversationId: 'group:launch', seq: launchSeqs[0]!, by: 'A', requestId: 'recall-launch-1' }).catch((e: Error & { code?: string }) => e);
    line(`   recalling launch-1 (sent minutes ago) is refused: ${'code' in late ? late.code : 'allowed?!'}`);
  });

  await step('8 days later, B\'s tablet syncs with its old cursor: older than the 7-day TTL', async () => {
    advance(8 * DAY);
    const r = await messenger.sync('B', { cursor: devices.tablet });
    line(`   limited=${r.limited}: inbox entries after the cursor may have expired unseen; the sync still returns what is retained (${r.entries.length} from the town hall's store timeline)`);
    const page = await messenger.history('group:launch', { limit: 50 });
    line(`   so the tablet re-fetches history from the message store (no TTL): ${page.entries.length} messages of group:launch`);
  });

  line('\ndone.');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

