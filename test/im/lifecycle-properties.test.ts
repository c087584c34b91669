// Property: sends, edits, recalls and deletes-for-me, issued concurrently in batches and
// interleaved with syncs from many devices, end with every device showing exactly what history
// (the user's view) shows. Reproducible: fast-check prints the seed and path of a failure.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimelineError, type Seq } from '../../src/index.js';
import { backendFactories, type TestBackend } from './backends.js';
import { messenger } from './fixtures.js';
import { expectConverged, LifeDevice } from './lifecycle-fixtures.js';

const USERS = ['a', 'b', 'c', 'd'] as const;
const CONVERSATIONS = {
  'dm:a:b': ['a', 'b'], // write diffusion
  'group:abc': ['a', 'b', 'c'], // write diffusion
  'group:big': ['a', 'b', 'c', 'd'], // read diffusion (over the threshold of 3)
} as const;
type Conversation = keyof typeof CONVERSATIONS;
const conversation = fc.constantFrom(...(Object.keys(CONVERSATIONS) as Conversation[]));

type Op =
  | { kind: 'send'; conversation: Conversation; sender: number; text: string }
  | { kind: 'edit'; conversation: Conversation; pick: number; text: string; request: number }
  | { kind: 'recall'; conversation: Conversation; pick: number; request: number }
  | { kind: 'delete'; conversation: Conversation; pick: number; user: number }
  | { kind: 'sync'; device: number }
  | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), conversation, sender: fc.nat(3), text: fc.string({ maxLength: 6 }) }),
  fc.record({ kind: fc.constant('edit' as const), conversation, pick: fc.nat(20), text: fc.string({ maxLength: 6 }), request: fc.nat(4) }),
  fc.record({ kind: fc.constant('recall' as const), conversation, pick: fc.nat(20), request: fc.nat(2) }),
  fc.record({ kind: fc.constant('delete' as const), conversation, pick: fc.nat(20), user: fc.nat(3) }),
  fc.record({ kind: fc.constant('sync' as const), device: fc.nat(7) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 40_000 }) }),
);

// Refusals the random ops are expected to meet; anything else fails the property.
function expected(error: unknown): boolean {
  return error instanceof TimelineError && (error.code === 'FORBIDDEN' || (error.code === 'INVALID_ARGUMENT' && /recalled/.test(error.message)));
}

describe.each(backendFactories)('lifecycle convergence on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  it('every device converges to history, whatever the interleaving', async () => {
    const runs = factory.name.startsWith('tablestore') ? 6 : 25;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }), async (batches) => {
        const { messenger: m } = messenger(t, { largeGroupThreshold: 3, largeGroupsOf: () => [{ conversationId: 'group:big', from: 0n }] });
        const devices = USERS.flatMap((u, i) => [new LifeDevice(m, u, 1 + i), new LifeDevice(m, u, 4)]);
        const sent = new Map<Conversation, { seq: Seq; senderId: string }[]>();
        let n = 0;
        const run = async (o: Op): Promise<void> => {
          const members = o.kind !== 'sync' && o.kind !== 'advance' ? CONVERSATIONS[o.conversation] : [];
          const target = (pick: number) => {
            const list = sent.get((o as { conversation: Conversation }).conversation) ?? [];
            return list.length === 0 ? undefined : list[pick % list.length];
          };
          try {
            switch (o.kind) {
              case 'send': {
                const senderId = members[o.sender % members.length]!;
                const result = await m.send({ conversationId: o.conversation, senderId, recipients: members.filter((x) => x !== senderId), message: { text: o.text }, messageId: `m${n++}` });
                const list = sent.get(o.conversation) ?? [];
                list.push({ seq: result.entry.seq, senderId });
                sent.set(o.conversation, list);
                return;
              }
              case 'edit': {
                const msg = target(o.pick);
                if (msg !== undefined) await m.edit({ conversationId: o.conversation, seq: msg.seq, by: msg.senderId, requestId: `e${o.request}:${msg.seq}`, message: { text: o.text } });
                return;
              }
              case 'recall': {
                const msg = target(o.pick);
                if (msg !== undefined) await m.recall({ conversationId: o.conversation, seq: msg.seq, by: msg.senderId, requestId: `r${o.request}:${msg.seq}` });
                return;
              }
              case 'delete': {
                const msg = target(o.pick);
                if (msg !== undefined) await m.deleteForMe({ userId: members[o.user % members.length]!, conversationId: o.conversation, seq: msg.seq });
                return;
              }
              case 'sync':
                await devices[o.device % devices.length]!.drain();
                return;
              case 'advance':
                t.advance(o.ms);
                return;
            }
          } catch (error) {
            if (!expected(error)) throw error;
          }
        };
        for (const batch of batches) await Promise.all(batch.map(run));
        for (const device of devices) {
          await device.drain();
          for (const [conv, members] of Object.entries(CONVERSATIONS)) {
            if ((members as readonly string[]).includes(device.userId)) await expectConverged(device, conv);
          }
        }
        expect(devices.every((d) => d.limitedSeen === 0)).toBe(true);
      }),
      { numRuns: runs },
    );
  }, 240_000);
});
