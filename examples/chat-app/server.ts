// The reference chat server: node:http, server-sent events for the online push, and a Messenger
// for everything else. Run: npm run chat (or npx ts-node examples/chat-app/server.ts --help).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from '../../src/index.js';
import { answer, routes, type Chat } from './api.js';
import { parseArgs, USAGE } from './args.js';
import { startBackend } from './backend.js';
import { LARGE_GROUP_THRESHOLD, largeGroupsOf } from './directory.js';
import { user } from './input.js';
import { PushHub } from './push.js';

// The page is three fixed files, read once: no build step, and no path from the URL reaches the disk.
const STATIC = new Map(
  [
    ['/', 'index.html', 'text/html'],
    ['/app.js', 'app.js', 'text/javascript'],
    ['/style.css', 'style.css', 'text/css'],
  ].map(([path, file, type]) => [path!, { body: readFileSync(join(__dirname, 'public', file!)), type: `${type}; charset=utf-8` }]),
);

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`chat: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args === 'help') return console.log(USAGE);

  const backend = await startBackend(args);
  const hub = new PushHub();
  const messenger = new Messenger<Chat>({
    store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend: backend.backend, table: 'chat_store' })),
    sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend: backend.backend, table: 'chat_sync', ttlSeconds: 7 * 86_400 }), { cursorSecret: backend.cursorSecret }),
    largeGroupThreshold: LARGE_GROUP_THRESHOLD,
    largeGroupsOf,
    conversations: {},
    // The online push: "new entries, pull now". Delivery itself stays the devices' sync.
    onDelivered: (event) => hub.notify(event.recipients),
  });
  await messenger.init(); // fail fast on a wrong table, before printing the URL

  const api = routes(messenger, hub);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const page = req.method === 'GET' ? STATIC.get(url.pathname) : undefined;
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store' });
      return void res.end(page.body);
    }
    if (req.method === 'GET' && url.pathname === '/api/events') {
      let userId: string;
      try {
        userId = user(url.searchParams.get('user'));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        return void res.end((error as Error).message);
      }
      return hub.open(userId, res);
    }
    const handler = api.get(`${req.method} ${url.pathname}`);
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } }));
    }
    void answer(handler, req, res, url.searchParams);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(args.port, args.host, resolve);
    });
  } catch (error) {
    await backend.close();
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    console.error(`chat: port ${args.port} is in use; pass --port N (0 picks a free one)`);
    process.exit(2);
  }
  const { port } = server.address() as AddressInfo;
  console.log(`chat on ${backend.label}`);
  console.log(`chat app: http://${args.host}:${port}/`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    hub.close();
    server.closeAllConnections();
    server.close();
    await messenger.close();
    await backend.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
