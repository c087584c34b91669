// The send journal across real processes: Messengers in child processes share tables on an
// emulator in yet another process (the CLI), race each other with the same message ids, and get
// killed with SIGKILL mid-send; recovery runs from the test process.
//
// Each crash point costs a process start (about 1 s on a loaded 2-core machine, most of this
// file's time): 12 points and 100 racing ids by default, 50 points and 200 ids with SOAK=1 (the
// points come from one seeded sequence, so the long run's first 12 are the default run's), to a
// group of 250 members (SOAK=1: 500). A crash point is a round of the sender's requests, held by
// the service until the child is killed.
//
// Both transports: the children's and the recovering process's backends use the wire path (the
// default) with every crash point and racing id above, then the SDK's client with the first 4 crash
// points of the same seeded sequence and half the racing ids (each crash point costs a process
// start, most of this file's time: the second runs add about a third to it).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimelineStore, type InboxMessage, type StoredMessage } from '../../src/index.js';
import { mulberry32 } from '../../src/emulator/prng.js';
import { openMessenger } from './fixtures/journal-worker.js';
import { LONG_RUN } from './harness.js';
import { remoteFaults } from '../support/emulator-process.js';

const RACING_IDS = LONG_RUN ? 200 : 100;
const CRASHES = LONG_RUN ? 50 : 12;
/** Two fan-out batches (200 rows each at most) by default, three with SOAK=1: a crash can split them either way. */
const MEMBERS = LONG_RUN ? 500 : 250;
/** Crash points are drawn among the first this many rounds of requests (a send makes about 6). */
const ROUNDS = 14;
/** A hang bound for one round of requests, far beyond a loaded machine's latency. */
const HANG_MS = 60_000;

interface Chat {
  text: string;
}

// Inside the project, so that the bundles find the `tablestore` SDK in its node_modules (a dynamic
// import() ignores NODE_PATH).
mkdirSync(path.join(process.cwd(), 'node_modules', '.cache'), { recursive: true });
const root = mkdtempSync(path.join(process.cwd(), 'node_modules', '.cache', 'journal-mp-'));
const workerBundle = path.join(root, 'journal-worker.cjs');
const emulatorBundle = path.join(root, 'emulator-cli.cjs');
let emulator: ChildProcess | undefined;
let endpoint = '';

// Lines a child prints, as they come, and a way to wait for one that matches.
function lines(child: ChildProcess): { all: string[]; next(match: (line: string) => boolean): Promise<string> } {
  const all: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let at: number;
    while ((at = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, at);
      buf = buf.slice(at + 1);
      all.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  return {
    all,
    next: (match) =>
      new Promise((resolve, reject) => {
        const found = all.find(match);
        if (found !== undefined) return resolve(found);
        waiters.push({ match, resolve });
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before the expected line; stderr may say why`)));
      }),
  };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

beforeAll(async () => {
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  const esbuild = requireFromRoot('esbuild') as { build(o: Record<string, unknown>): Promise<unknown> };
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent', external: ['tablestore'] };
  await esbuild.build({ ...common, entryPoints: [path.join(process.cwd(), 'test/reliability/fixtures/journal-worker.ts')], outfile: workerBundle });
  await esbuild.build({ ...common, entryPoints: [path.join(process.cwd(), 'src/emulator/cli.ts')], outfile: emulatorBundle });
  emulator = spawn(process.execPath, [emulatorBundle, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const banner = await lines(emulator).next((line) => /listening on http:\/\/\S+/.test(line));
  endpoint = /listening on (http:\/\/\S+)/.exec(banner)![1]!;
}, 60_000);

afterAll(async () => {
  await reader?.close();
  if (emulator !== undefined && emulator.exitCode === null) {
    emulator.kill('SIGTERM');
    await exited(emulator);
  }
  rmSync(root, { recursive: true, force: true });
});

const worker = (args: string[], transport: 'sdk' | 'wire'): ChildProcess =>
  spawn(process.execPath, [workerBundle, ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, JOURNAL_WORKER_TRANSPORT: transport } });

// Reads a whole timeline of a test's tables through a backend of the test process.
async function timeline<M>(prefix: string, table: 'store' | 'sync', id: string): Promise<{ messageId?: string; message: M }[]> {
  reader ??= openMessenger(endpoint, 'reader').backend;
  const store = new TimelineStore<M>({ backend: reader, table: `${prefix}_${table}`, ttlSeconds: table === 'sync' ? 7 * 86400 : -1 });
  const out = [];
  for await (const e of store.timeline(id).scan()) out.push(e);
  return out;
}
let reader: ReturnType<typeof openMessenger>['backend'] | undefined;

const RUNS = [
  { transport: 'wire', racingIds: RACING_IDS, crashes: CRASHES },
  { transport: 'sdk', racingIds: RACING_IDS / 2, crashes: Math.min(CRASHES, 4) },
] as const;

describe.each(RUNS)('send journal across processes (emulator CLI in its own process, $transport transport)', ({ transport, racingIds: RACING_IDS, crashes: CRASHES }) => {
  it(`three processes send the same ${RACING_IDS} message ids at once: each stored once, delivered once per inbox, one first answer each`, async () => {
    const prefix = `race${Date.now().toString(36)}`;
    const children = [0, 1, 2].map(() => worker(['race', endpoint, prefix, String(RACING_IDS)], transport));
    const outputs = children.map(lines);
    await Promise.all(outputs.map((o) => o.next((l) => l.includes('"ready"'))));
    for (const c of children) c.stdin!.write('go\n');
    const codes = await Promise.all(children.map(exited));
    expect(codes).toEqual([0, 0, 0]);
    const answers = new Map<string, boolean[]>();
    for (const o of outputs) {
      for (const line of o.all) {
        const parsed = JSON.parse(line) as { messageId?: string; duplicate?: boolean; failed?: number };
        if (parsed.messageId === undefined) continue;
        expect(parsed.failed).toBe(0);
        answers.set(parsed.messageId, [...(answers.get(parsed.messageId) ?? []), parsed.duplicate!]);
      }
    }
    expect(answers.size).toBe(RACING_IDS);
    for (const [id, flags] of answers) {
      expect(flags, id).toHaveLength(3);
      expect(flags.filter((d) => !d), id).toHaveLength(1);
    }
    const history = await timeline<StoredMessage<Chat>>(prefix, 'store', 'group:race');
    expect(history).toHaveLength(RACING_IDS);
    expect(new Set(history.map((e) => e.messageId)).size).toBe(RACING_IDS);
    for (const user of ['u0', 'u1', 'u2']) {
      const inbox = await timeline<InboxMessage<Chat>>(prefix, 'sync', user);
      expect(inbox, user).toHaveLength(RACING_IDS);
      expect(new Set(inbox.map((e) => e.messageId)).size, user).toBe(RACING_IDS);
    }
  }, 180_000);

  it(`a sender killed with SIGKILL at ${CRASHES} random points of sends to a ${MEMBERS}-member group: recover() from another process delivers every stored message exactly once`, async () => {
    const prefix = `crash${Date.now().toString(36)}`;
    const random = mulberry32(20261201);
    const faults = remoteFaults(endpoint);
    // Recovery reads every member's inbox tail per pending send: the members are most of its time.
    const members = MEMBERS;
    for (let kill = 0; kill < CRASHES; kill++) {
      const child = worker(['group', endpoint, prefix, String(kill * 1000), String(members)], transport);
      const out = lines(child);
      await out.next((l) => l.includes('"ready"'));
      // A seeded point of the sends: the service holds every request, and lets the child's
      // requests go on round by round until the chosen round is held; the child dies with that
      // round in flight, which the service then applies (a request sent just before a crash).
      // Events, not a timer: on a loaded machine a random delay lands before the first request.
      const rounds = 1 + Math.floor(random() * ROUNDS);
      await faults.inject({ hold: 'until-released' });
      child.stdin!.write('go\n');
      for (let round = 1; ; round++) {
        await faults.whenHeld(1, HANG_MS);
        if (round === rounds) break;
        await faults.release();
      }
      child.kill('SIGKILL');
      await exited(child);
      await faults.clear();
      await faults.release();
    }
    // The recovering process's clock is past every lease.
    const { messenger, backend } = openMessenger(endpoint, prefix, () => Date.now() + 120_000, transport);
    const first = await messenger.recover();
    expect(first.pending).toBeGreaterThan(0);
    const second = await messenger.recover();
    expect(second.rowsWritten).toBe(0);
    expect(second.pending).toBe(0);
    await backend.close();

    const history = await timeline<StoredMessage<Chat>>(prefix, 'store', 'group:big');
    const ids = history.map((e) => e.messageId!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(0);
    const expected = [...ids].sort();
    for (let i = 0; i < members; i++) {
      const inbox = (await timeline<InboxMessage<Chat>>(prefix, 'sync', `member${i}`)).map((e) => e.messageId!);
      expect(inbox.length, `member${i}`).toBe(new Set(inbox).size);
      expect([...inbox].sort(), `member${i}`).toEqual(expected);
    }
  }, 300_000);
});
