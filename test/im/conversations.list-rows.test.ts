// When the list rows of a send are written: beside its inbox fan-out (so they add requests but no
// round trip), and again by a take-over or recovery (so a process that dies between the fan-out
// and the rows does not leave the conversation out of its members' lists).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage, type TimelineBackend } from '../../src/index.js';
import { PassThroughBackend } from '../../src/testing/index.js';
import { backendFactories, uniqueTable, type TestBackend } from './backends.js';
import { SECRET, WEEK_SECONDS, type Chat } from './fixtures.js';

/**
 * One "process" view of a backend whose calls can be held by table: a held call settles only when
 * its gate opens (or never, for a process that dies), as if the request were still in flight.
 */
class View {
  /** Inbox appends wait for this before they go on. */
  inboxGate: Promise<void> = Promise.resolve();
  /** List-row writes (the `_conv` table) wait for this before they go on. */
  listGate: Promise<void> = Promise.resolve();
  /** Called when a list-row write starts. */
  onListWrite: () => void = () => undefined;
  readonly backend: TimelineBackend;

  constructor(inner: TimelineBackend, inboxTable: string) {
    const view = this;
    const records = inner.records!;
    // The shared PassThroughBackend forwards everything; only the held calls and close differ.
    this.backend = new (class extends PassThroughBackend {
      override async append(...args: Parameters<TimelineBackend['append']>) {
        if (args[0] === inboxTable) await view.inboxGate;
        return super.append(...args);
      }
      override get records(): TimelineBackend['records'] {
        return {
          recordLimits: records.recordLimits,
          ensureRecordTable: records.ensureRecordTable.bind(records),
          writeRecords: async (table, writes, options) => {
            if (table.endsWith('_conv')) {
              view.onListWrite();
              await view.listGate;
            }
            return records.writeRecords(table, writes, options);
          },
          getRecord: records.getRecord.bind(records),
          scanRecords: records.scanRecords.bind(records),
        };
      }
      // Each view shares the test's backend; closing a Messenger must not close it.
      override async close() {}
    })(inner);
  }
}

describe.each(backendFactories)('conversation list rows on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  function tables() {
    const history = uniqueTable('im_store');
    const inbox = uniqueTable('im_sync');
    const open = (view: View) =>
      new Messenger<Chat>({
        store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend: view.backend, table: history })),
        sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend: view.backend, table: inbox, ttlSeconds: WEEK_SECONDS }), { cursorSecret: SECRET, now: t.now }),
        largeGroupThreshold: Number.POSITIVE_INFINITY,
        conversations: {},
        recentSends: 0,
        now: t.now,
      });
    const inboxOf = async (userId: string) => {
      const out = [];
      for await (const entry of new TimelineStore<InboxMessage<Chat>>({ backend: t.backend, table: inbox, ttlSeconds: WEEK_SECONDS }).timeline(userId).scan()) out.push(entry);
      return out;
    };
    return { open, inboxOf, view: () => new View(t.backend, inbox) };
  }

  it('are written while the inbox fan-out is in flight, not after it', async () => {
    const { open, view } = tables();
    const v = view();
    const m = open(v);
    await m.init();
    // The inbox append waits until a list-row write has started: a send that wrote the rows only
    // after its fan-out would never finish (and the test would time out).
    let opened!: () => void;
    v.inboxGate = new Promise<void>((resolve) => (opened = resolve));
    v.onListWrite = () => opened();
    const sent = await m.send({ conversationId: 'g:1', senderId: 'a', recipients: ['b', 'c'], message: { text: 'hi' }, messageId: 'one' });
    expect(sent.fanOut.failed).toEqual([]);
    expect((await m.conversations('b')).items).toMatchObject([{ conversationId: 'g:1', kind: 'group', unread: 1 }]);
    expect((await m.conversations('a')).items).toMatchObject([{ conversationId: 'g:1', unread: 0 }]);
    await m.close();
  }, 30_000);

  it('a process that dies after its fan-out, before its list rows: recover() writes them', async () => {
    const { open, view, inboxOf } = tables();
    const dying = view();
    const victim = open(dying);
    await victim.init();
    let listWrites = 0;
    dying.onListWrite = () => listWrites++;
    dying.listGate = new Promise<void>(() => undefined); // the rows never get written: the process is gone
    void victim.send({ conversationId: 'dm:ab', senderId: 'a', recipients: ['b'], message: { text: 'hello' }, messageId: 'lost-rows' });
    await vi.waitFor(() => expect(listWrites).toBe(1));
    // Its fan-out ran beside the rows and finished: both inboxes hold the message.
    await vi.waitFor(async () => {
      expect(await inboxOf('b')).toHaveLength(1);
      expect(await inboxOf('a')).toHaveLength(1);
    });

    const survivor = open(view());
    // The inboxes hold the message, the lists do not show it yet.
    expect((await survivor.conversations('b')).items).toEqual([]);
    t.advance(30_001); // the dead process's lease runs out
    const pass = await survivor.recover();
    expect(pass.completed).toBe(1);
    expect(pass.rowsWritten).toBe(0); // every inbox already held it: only the list rows were missing
    expect((await survivor.conversations('b')).items).toMatchObject([{ conversationId: 'dm:ab', kind: 'direct', unread: 1, lastMessage: { message: { text: 'hello' } } }]);
    expect((await survivor.conversations('a')).items).toMatchObject([{ conversationId: 'dm:ab', unread: 0 }]);
    await survivor.close();
  }, 30_000);
});
