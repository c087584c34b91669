// Multi-device sync: one inbox (a SyncTimeline), three devices, each with its own cursor. The server
// keeps no per-device state; every device gets every entry exactly once, in order, whenever it syncs.
// Run: npx ts-node examples/multi-device-sync.ts
import { randomBytes } from 'node:crypto';
import { MemoryBackend, SyncTimeline, TimelineStore } from '../src/index.js';

async function main(): Promise<void> {
  let now = Date.UTC(2026, 0, 1);
  const backend = new MemoryBackend({ now: () => now });
  const inbox = new SyncTimeline(new TimelineStore<string>({ backend, table: 'inbox', ttlSeconds: 7 * 86_400 }), {
    cursorSecret: randomBytes(32), // in production: a configured secret shared by every server
    now: () => now,
  });
  const cursors: Record<string, string | undefined> = { phone: undefined, laptop: undefined, watch: undefined };
  const received: Record<string, string[]> = { phone: [], laptop: [], watch: [] };
  const sync = async (device: string, limit = 100): Promise<void> => {
    let calls = 0;
    for (;;) {
      const r = await inbox.sync('bob', { cursor: cursors[device], limit });
      calls += 1;
      cursors[device] = r.cursor;
      received[device]!.push(...r.entries.map((e) => e.message));
      if (!r.hasMore) break;
    }
    console.log(`  ${device.padEnd(6)} synced in ${calls} call(s): now holds ${received[device]!.length} messages`);
  };

  for (let i = 1; i <= 4; i++) await inbox.push('bob', `message ${i}`, { messageId: `m${i}` });
  console.log('4 messages pushed to bob');
  await sync('phone');
  await sync('watch', 3);
  for (let i = 5; i <= 9; i++) await inbox.push('bob', `message ${i}`, { messageId: `m${i}` });
  console.log('5 more pushed');
  await sync('phone');
  await sync('laptop', 2);
  await sync('watch', 3);
  const expected = Array.from({ length: 9 }, (_, i) => `message ${i + 1}`);
  for (const device of Object.keys(received)) {
    const same = JSON.stringify(received[device]) === JSON.stringify(expected);
    console.log(`  ${device}: ${received[device]!.length} messages, exactly once and in order: ${same}`);
    if (!same) process.exitCode = 1;
  }

  // A cursor is bound to its receiver and signed: another user's cursor, or an edited one, is refused.
  try {
    await inbox.sync('mallory', { cursor: cursors.phone });
  } catch (error) {
    console.log(`mallory replays bob's cursor: ${(error as Error).name} (${(error as { code?: string }).code})`);
  }

  now += 8 * 86_400_000;
  const stale = await inbox.sync('bob', { cursor: cursors.watch });
  console.log(`8 days later the watch syncs: limited=${stale.limited} (older than the 7-day TTL: refetch history from the message store)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
