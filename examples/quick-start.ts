// Quick start: one TimelineStore on the in-memory backend, a timeline per user, append and read.
// Run: npx ts-node examples/quick-start.ts
import { MemoryBackend, TimelineStore } from '../src/index.js';

interface ChatMessage {
  from: string;
  text: string;
}

async function main(): Promise<void> {
  const store = new TimelineStore<ChatMessage>({ backend: new MemoryBackend(), table: 'im_sync', ttlSeconds: 7 * 86_400 });
  await store.init();

  const bob = store.timeline('user:bob');
  const first = await bob.append({ from: 'alice', text: 'hi Bob' }, { messageId: 'msg-1' });
  await bob.appendMany([
    { from: 'carol', text: 'lunch?' },
    { from: 'alice', text: 'see you at 1' },
  ]);
  console.log(`appended 3 entries to ${bob.id}; the first got seq ${first.seq}`);

  console.log('forward scan (oldest first):');
  for await (const e of bob.scan()) console.log(`  #${e.seq} ${e.message.from}: ${e.message.text}`);

  console.log('backward scan, limit 2 (newest first):');
  for await (const e of bob.scan({ direction: 'backward', limit: 2 })) console.log(`  #${e.seq} ${e.message.from}: ${e.message.text}`);

  // A device that has seen `first` asks for everything after it.
  const after: string[] = [];
  for await (const e of bob.scan({ from: first.seq + 1n })) after.push(e.message.text);
  console.log(`after seq ${first.seq}: ${after.length} entries -> ${JSON.stringify(after)}`);

  console.log(`point get of seq ${first.seq}: ${JSON.stringify((await bob.get(first.seq))?.message)} (messageId ${(await bob.get(first.seq))?.messageId})`);
  console.log(`latest: ${(await bob.latest())?.message.text}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
