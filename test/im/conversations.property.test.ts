// Unread counts never drift: after random interleavings of sends, recalls and reads (some
// concurrent, some stale, some beyond the newest message), every count equals a recount from the
// conversation's timeline, and every read position is the largest one any markRead reported.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Messenger } from '../../src/index.js';
import { backendFactories, type TestBackend } from './backends.js';
import { messenger, type Chat } from './fixtures.js';

const CAP = 4;
const CONVERSATIONS: Record<string, readonly string[]> = {
  'dm:a:b': ['a', 'b'],
  'group:small': ['a', 'b', 'c', 'd'],
  // Over the threshold (5): read diffusion.
  'group:big': ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
};
const IDS = Object.keys(CONVERSATIONS);

type Command =
  | { kind: 'send'; conversation: number; sender: number }
  | { kind: 'read'; conversation: number; reader: number; pick: number; beyond: boolean }
  | { kind: 'recall'; conversation: number; pick: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), conversation: fc.nat(IDS.length - 1), sender: fc.nat(6) }),
  fc.record({ kind: fc.constant('read' as const), conversation: fc.nat(IDS.length - 1), reader: fc.nat(6), pick: fc.nat(50), beyond: fc.boolean() }),
  fc.record({ kind: fc.constant('recall' as const), conversation: fc.nat(IDS.length - 1), pick: fc.nat(50) }),
);

// Rounds of commands; the commands of one round run concurrently.
const rounds = fc.array(fc.array(command, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 });

async function recount(m: Messenger<Chat>, conversationId: string, userId: string, readSeq: bigint | undefined): Promise<number> {
  const entries = [];
  let page = await m.history(conversationId, { limit: 100 });
  entries.push(...page.entries);
  for (let i = 0; page.hasMore && i < 100; i++) {
    page = await m.history(conversationId, { limit: 100, before: page.next });
    entries.push(...page.entries);
  }
  let unread = 0;
  for (const entry of entries) {
    if (readSeq !== undefined && entry.seq <= readSeq) break;
    if (entry.senderId === userId) break;
    if (entry.recalled === undefined) unread++;
  }
  return Math.min(unread, CAP);
}

describe.each(backendFactories)('unread counts against a recount on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  it('after random interleavings of sends, recalls and reads, every count equals the recount', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(rounds, async (plan) => {
        run++;
        const big = (u: string) => (CONVERSATIONS['group:big']!.includes(u) ? [{ conversationId: 'group:big', from: 0n }] : []);
        const { messenger: m } = messenger(t, { conversations: { unreadCap: CAP }, largeGroupThreshold: 5, largeGroupsOf: big });
        const sent = new Map<string, bigint[]>(IDS.map((id) => [id, []]));
        const senders = new Map<string, string>();
        const recalled = new Set<string>();
        const reported = new Map<string, bigint>();
        let n = 0;
        for (const round of plan) {
          t.advance(1000);
          await Promise.all(
            round.map(async (c) => {
              const conversationId = IDS[c.conversation]!;
              const members = CONVERSATIONS[conversationId]!;
              if (c.kind === 'send') {
                const senderId = members[c.sender % members.length]!;
                const result = await m.send({ conversationId, senderId, recipients: members.filter((u) => u !== senderId), message: { text: `${n}` }, messageId: `r${run}-${n++}` });
                sent.get(conversationId)!.push(result.entry.seq);
                senders.set(`${conversationId} ${result.entry.seq}`, senderId);
                return;
              }
              const seqs = sent.get(conversationId)!;
              if (seqs.length === 0) return;
              if (c.kind === 'recall') {
                const seq = seqs[c.pick % seqs.length]!;
                // One recall per message (a second is refused), by its sender (the default rule).
                if (recalled.has(`${conversationId} ${seq}`)) return;
                recalled.add(`${conversationId} ${seq}`);
                await m.recall({ conversationId, seq, by: senders.get(`${conversationId} ${seq}`)!, requestId: `rq${run}-${n++}`, recipients: members });
                return;
              }
              const userId = members[c.reader % members.length]!;
              const picked = seqs[c.pick % seqs.length]!;
              const result = await m.markRead({ userId, conversationId, seq: c.beyond ? picked + 10n ** 9n : picked });
              const key = `${userId} ${conversationId}`;
              const best = reported.get(key);
              if (best === undefined || result.seq > best) reported.set(key, result.seq);
            }),
          );
        }
        for (const conversationId of IDS) {
          if (sent.get(conversationId)!.length === 0) continue;
          for (const userId of CONVERSATIONS[conversationId]!) {
            const items = (await m.conversations(userId, { limit: 10 })).items;
            const item = items.find((i) => i.conversationId === conversationId);
            expect(item, `${userId} lists ${conversationId}`).toBeDefined();
            expect(item!.readSeq).toBe(reported.get(`${userId} ${conversationId}`));
            expect(item!.unread).toBeGreaterThanOrEqual(0);
            expect(item!.unread).toBe(await recount(m, conversationId, userId, item!.readSeq));
            expect(item!.unreadCapped).toBe(item!.unread === CAP && (await recountUncapped(m, conversationId, userId, item!.readSeq)) > CAP);
          }
        }
      }),
      { numRuns: factory.name.startsWith('tablestore') ? 6 : 25, seed: 16, endOnFailure: true },
    );
  }, 120_000);
});

async function recountUncapped(m: Messenger<Chat>, conversationId: string, userId: string, readSeq: bigint | undefined): Promise<number> {
  let unread = 0;
  let page = await m.history(conversationId, { limit: 100 });
  for (let i = 0; i < 100; i++) {
    for (const entry of page.entries) {
      if ((readSeq !== undefined && entry.seq <= readSeq) || entry.senderId === userId) return unread;
      if (entry.recalled === undefined) unread++;
    }
    if (!page.hasMore) return unread;
    page = await m.history(conversationId, { limit: 100, before: page.next });
  }
  return unread;
}
