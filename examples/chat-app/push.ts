// Online push over server-sent events. A push says only "new entries, pull now": the device then
// syncs with its cursor, so a missed push costs nothing but latency (the next sync catches up).
import type { ServerResponse } from 'node:http';

/** The open event streams, per user. */
export class PushHub {
  readonly #streams = new Map<string, Set<ServerResponse>>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor() {
    // A comment line now and then, so that proxies do not close an idle stream.
    this.#heartbeat = setInterval(() => {
      for (const set of this.#streams.values()) for (const res of set) res.write(': keep-alive\n\n');
    }, 25_000);
    this.#heartbeat.unref();
  }

  /** Keeps `res` open as `userId`'s event stream until the client goes away. */
  open(userId: string, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // retry: how soon EventSource reconnects after the server went away (the page syncs on reconnect).
    res.write('retry: 500\n\n');
    let set = this.#streams.get(userId);
    if (set === undefined) this.#streams.set(userId, (set = new Set()));
    set.add(res);
    res.on('close', () => set.delete(res));
  }

  /** Tells every open device of these users to sync. */
  notify(userIds: Iterable<string>): void {
    for (const userId of new Set(userIds)) {
      for (const res of this.#streams.get(userId) ?? []) res.write('event: pull\ndata: {}\n\n');
    }
  }

  /** Ends every stream (on shutdown). */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const set of this.#streams.values()) for (const res of set) res.end();
    this.#streams.clear();
  }
}
