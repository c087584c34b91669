/**
 * What conversations cost, in requests (never wall time): one `Messenger.send` to N recipients
 * with and without `conversations`, then one `conversations()` call and one `markRead` by a
 * recipient, at N = 2, 100 and 2,000 (write diffusion) and at N = 2,000 as a large group (read
 * diffusion), plus one `conversations()` page of 20 for a user with 30 conversations. Through the
 * official SDK against an emulator in its own process; the counts are the emulator's own.
 *
 * The target is set against the cost write diffusion already pays, `1 + ⌈(N+1)/200⌉` requests
 * (the store write and the inbox batches; the journal adds its claim and finish): the list rows
 * are one row per inbox row, written in batches of 200 too, so a send with conversations may cost
 * at most `⌈(N+1)/200⌉` requests more — never a request per recipient — and a read-diffused send
 * nothing more.
 */
import { Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from '../src/index.js';
import type { ResultRow, SuiteContext, SuiteResult } from './harness.js';
import { BATCH_ROWS, CHAT, closeTarget, CONCURRENCY, CURSOR_SECRET, describeCounts, n$, openTarget, requestCounts, requestsSince, SEVEN_DAYS, total, type Chat, type Counts, type Target } from './sdk-target.js';

const CONVERSATION = 'group:conv';
/** Above it a conversation uses read diffusion in the large-group case. */
const THRESHOLD = 500;

interface Case {
  readonly n: number;
  readonly diffusion: 'write' | 'read';
}

interface Costs {
  readonly send: Counts;
  readonly list?: Counts;
  readonly markRead?: Counts;
}

let runCounter = 0;

function members(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user:${i}`);
}

// Counts the requests `fn` makes.
async function counted<R>(target: Target, fn: () => Promise<R>): Promise<{ result: R; requests: Counts }> {
  const before = await requestCounts(target);
  const result = await fn();
  return { result, requests: await requestsSince(target, before) };
}

function messengerOn(target: Target, c: Case, conversations: boolean): Messenger<Chat> {
  const store = new TimelineStore<StoredMessage<Chat>>({ backend: target.backend, table: 'im_store' });
  const inbox = new TimelineStore<InboxMessage<Chat>>({ backend: target.backend, table: 'im_sync', ttlSeconds: SEVEN_DAYS });
  return new Messenger<Chat>({
    store: new StoreTimeline(store),
    sync: new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET }),
    largeGroupThreshold: c.diffusion === 'read' ? THRESHOLD : Number.POSITIVE_INFINITY,
    // The large group is a large group of every member (and of the sender).
    ...(c.diffusion === 'read' ? { largeGroupsOf: () => [CONVERSATION] } : {}),
    concurrency: CONCURRENCY,
    recentSends: 0,
    ...(conversations ? { conversations: {} } : {}),
  });
}

// A fresh emulator state; a warm-up send (creates every table, untimed); then the counted send, and
// with conversations the counted conversations() and markRead of the first recipient.
async function measure(target: Target, c: Case, conversations: boolean): Promise<Costs> {
  await target.emu.reset();
  const messenger = messengerOn(target, c, conversations);
  try {
    await messenger.init();
    const recipients = members(c.n);
    const send = (text: string) => messenger.send({ conversationId: CONVERSATION, senderId: 'user:sender', recipients, message: { ...CHAT, text }, messageId: `m-${++runCounter}` });
    await send('warm-up');
    const sent = await counted(target, () => send('counted'));
    if (sent.result.mode !== c.diffusion || sent.result.fanOut.failed.length > 0) {
      throw new Error(`N = ${c.n}: expected a fully delivered ${c.diffusion}-diffused send, got ${sent.result.mode} with ${sent.result.fanOut.failed.length} failed`);
    }
    if (!conversations) return { send: sent.requests };
    const list = await counted(target, () => messenger.conversations('user:0'));
    const item = list.result.items[0];
    if (list.result.items.length !== 1 || item?.unread !== 2) throw new Error(`N = ${c.n}: expected one conversation with 2 unread, got ${JSON.stringify(list.result.items.map((i) => [i.conversationId, i.unread]))}`);
    const read = await counted(target, () => messenger.markRead({ userId: 'user:0', conversationId: CONVERSATION, seq: sent.result.entry.seq }));
    const after = await messenger.conversations('user:0');
    if (!read.result.advanced || after.items[0]?.unread !== 0) throw new Error(`N = ${c.n}: markRead did not clear the badge (unread ${after.items[0]?.unread})`);
    return { send: sent.requests, list: list.requests, markRead: read.requests };
  } finally {
    await messenger.close();
  }
}

// A user in 30 one-to-one conversations, each with one message from its partner: one page of 20.
async function measurePage(target: Target): Promise<{ requests: Counts; items: number }> {
  await target.emu.reset();
  const messenger = messengerOn(target, { n: 1, diffusion: 'write' }, true);
  try {
    await messenger.init();
    for (let i = 0; i < 30; i++) {
      await messenger.send({ conversationId: `dm:${i}`, senderId: `friend:${i}`, recipients: ['user:0'], message: CHAT, messageId: `dm-${++runCounter}` });
    }
    const page = await counted(target, () => messenger.conversations('user:0', { limit: 20 }));
    if (page.result.items.length !== 20 || page.result.next === undefined || page.result.items.some((item) => item.unread !== 1)) {
      throw new Error(`30 conversations: expected a page of 20 with one unread each and a next cursor, got ${page.result.items.length}`);
    }
    return { requests: page.requests, items: page.result.items.length };
  } finally {
    await messenger.close();
  }
}

/** The conversations suite. */
export async function runConversationsBench(context: SuiteContext): Promise<SuiteResult> {
  const cases: Case[] = context.quick
    ? [
        { n: 2, diffusion: 'write' },
        { n: 100, diffusion: 'write' },
      ]
    : [
        { n: 2, diffusion: 'write' },
        { n: 100, diffusion: 'write' },
        { n: 2000, diffusion: 'write' },
        { n: 2000, diffusion: 'read' },
      ];
  // Counts are exact: every case runs twice, and a row's target is met only when both runs agree.
  const reps = context.quick ? 1 : 2;
  const target = await openTarget(0);
  try {
    const rows: ResultRow[] = [];
    for (const c of cases) {
      context.progress(`N = ${n$(c.n)}, ${c.diffusion} diffusion: ${reps} runs without and with conversations`);
      const off: Costs[] = [];
      const on: Costs[] = [];
      for (let r = 0; r < reps; r++) {
        off.push(await measure(target, c, false));
        on.push(await measure(target, c, true));
      }
      rows.push(...caseRows(c, off, on));
    }
    context.progress('a user with 30 conversations: one page of 20');
    const pages = [];
    for (let r = 0; r < reps; r++) pages.push(await measurePage(target));
    const page = pages[0]!;
    const stable = pages.every((p) => describeCounts(p.requests) === describeCounts(page.requests));
    rows.push({
      metric: 'conversations(limit 20) of a user with 30 conversations: requests',
      value: total(page.requests),
      unit: 'requests',
      target: `= 1 scan + 1 tail read per item = ${1 + page.items}`,
      met: stable && total(page.requests) === 1 + page.items,
      detail: `${describeCounts(page.requests)}${agreement(stable, pages.length)}`,
    });
    return {
      rows,
      notes: [
        `One \`Messenger.send\` per run (the send journal on, the default) from \`user:sender\` to N recipients, after an untimed warm-up send that creates the tables; then, with \`conversations: {}\`, one \`conversations('user:0')\` (the list holds that one conversation, 2 unread) and one \`markRead\` of the counted message. Write diffusion with \`largeGroupThreshold: Infinity\`; read diffusion with a threshold of ${THRESHOLD} and the group in \`largeGroupsOf\`. The emulator (the CLI) in its own process, reset before every run; the counts are its own, per API.`,
        'Write diffusion costs `1 + ⌈(N+1)/200⌉` requests (the store PutRow and the inbox BatchWriteRows, the sender\'s inbox included) plus the journal\'s claim and finish. Conversations add one list row per inbox (sender included), in BatchWriteRows of 200 after the fan-out: `⌈(N+1)/200⌉` requests, the same rows again as the fan-out, never a request per recipient. A read-diffused send adds nothing: a large group\'s place in the list is read from the group itself when the list is built.',
        '`conversations()` reads the user\'s rows (one GetRange up to 5,000 rows: 2,500 conversations) and one tail of each item on the page (up to `unreadCap + 1` = 100 entries, which gives its last message and unread count at once), in parallel under `concurrency`; large groups are read whether or not they land on the page (their order comes from their tail). `markRead` reads the list row and the conversation\'s newest entry (in parallel), writes the position (one request, with the receipt row for write-diffused conversations) and one read event into the user\'s own inbox for the other devices.',
      ],
    };
  } finally {
    await closeTarget(target);
  }
}

function caseRows(c: Case, off: readonly Costs[], on: readonly Costs[]): ResultRow[] {
  const at = `N = ${n$(c.n)} (${c.diffusion} diffusion)`;
  const batches = Math.ceil((c.n + 1) / BATCH_ROWS);
  const fanOut = c.diffusion === 'write' ? batches : 0;
  const extra = c.diffusion === 'write' ? batches : 0;
  const base = total(off[0]!.send);
  const rows: ResultRow[] = [];
  const stableOff = off.every((m) => describeCounts(m.send) === describeCounts(off[0]!.send));
  rows.push({
    metric: `${at} · send, conversations off: requests`,
    value: base,
    unit: 'requests',
    target: `= 1 + ${fanOut} fan-out + 2 journal = ${3 + fanOut}`,
    met: stableOff && base === 3 + fanOut,
    detail: `${describeCounts(off[0]!.send)}${agreement(stableOff, off.length)}`,
  });
  const row = (name: 'send' | 'list' | 'markRead', metric: string, expected: number, targetText: string): void => {
    const first = on[0]![name]!;
    const stable = on.every((m) => describeCounts(m[name]!) === describeCounts(first));
    rows.push({ metric: `${at} · ${metric}: requests`, value: total(first), unit: 'requests', target: `${targetText} = ${expected}`, met: stable && total(first) === expected, detail: `${describeCounts(first)}${agreement(stable, on.length)}` });
  };
  row('send', 'send, conversations on', base + extra, c.diffusion === 'write' ? `= off + ⌈(N+1)/200⌉ list-row batches` : '= off (nothing per send)');
  row('list', 'conversations() of a recipient', 2, '= 1 scan + 1 tail read');
  row('markRead', 'markRead', 4, '= 2 reads + 1 write + 1 read event');
  return rows;
}

function agreement(stable: boolean, runs: number): string {
  if (runs < 2) return '';
  return stable ? `, the same in all ${runs} runs` : ' — NOT the same in every run';
}
