// The chat app (examples/chat-app) in a real browser: headless Chromium shows the page of four
// devices (alice and bob, a phone and a laptop each) against the server on the TableStore emulator
// with a data directory. Every wait is on a condition of the page, bounded in time; nothing sleeps.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from './browser.js';
import { startChatServer, type ChatServer } from './chat-server.js';

// The page's globals used by the functions that run in the browser: declared here, in this module
// only, because the project compiles without the DOM library.
interface PageNode {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
}
declare const document: { body: PageNode; querySelector(selector: string): PageNode | null; querySelectorAll(selector: string): ArrayLike<PageNode> };

const WAIT = 60_000; // per page condition: generous, since the machine may be busy; never a sleep
const DM = 'dm:alice:bob';
const TEAM = 'group:team';
const EVERYONE = 'group:everyone'; // 4 members: over the app's threshold of 3, so read diffusion
// The README's screenshot is this test's output. A plain run writes it under .tmp/ (ignored by git) so
// that `npm test` leaves the work tree clean; `UPDATE_SCREENSHOT=1 npx vitest run test/chat-app`
// refreshes the committed copy in docs/images/.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1'
  ? resolve(__dirname, '..', '..', 'docs', 'images', 'chat-app.png')
  : resolve(__dirname, '..', '..', '.tmp', 'chat-app.png');

let dataDir: string;
let server: ChatServer;
let browser: Browser;
let page: Page;
let launchError: Error | undefined;
const pageErrors: string[] = [];

function device(name: 'alice-phone' | 'alice-laptop' | 'bob-phone' | 'bob-laptop'): Frame {
  if (page === undefined) throw new Error(`the browser did not start: ${launchError?.message ?? 'see the first test'}`);
  const frame = page.frame({ name });
  if (frame === null) throw new Error(`no frame ${name}`);
  return frame;
}

/** Waits until the device shows a message with exactly this text. */
async function shows(frame: Frame, text: string): Promise<void> {
  await frame.waitForFunction((t) => Array.from(document.querySelectorAll('.msg .text')).some((n) => n.textContent === t), text, { timeout: WAIT });
}

/** Waits until the device's badge of `conversationId` reads `count`. */
async function badge(frame: Frame, conversationId: string, count: number): Promise<void> {
  await frame.waitForFunction(
    ([id, n]) => document.querySelector(`[data-conv="${id}"] .badge`)?.dataset.count === n,
    [conversationId, String(count)] as const,
    { timeout: WAIT },
  );
}

async function open(frame: Frame, conversationId: string): Promise<void> {
  await frame.locator(`[data-conv="${conversationId}"]`).click({ timeout: WAIT });
  await frame.locator(`[data-conv="${conversationId}"].open`).waitFor({ timeout: WAIT });
}

async function send(frame: Frame, text: string): Promise<void> {
  await frame.locator('input[name=text]').fill(text, { timeout: WAIT });
  await frame.locator('input[name=text]').press('Enter', { timeout: WAIT });
  await shows(frame, text);
}

const texts = (frame: Frame): Promise<string[]> => frame.locator('.msg .text').allTextContents();

async function allOnline(): Promise<void> {
  for (const name of ['alice-phone', 'alice-laptop', 'bob-phone', 'bob-laptop'] as const) {
    await device(name).waitForFunction(() => document.body.dataset.online === 'true' && Number(document.body.dataset.syncs) > 0, undefined, { timeout: WAIT });
  }
}

describe('chat app in Chromium', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chat-app-'));
    server = await startChatServer(['--backend', 'emulator', '--data-dir', dataDir, '--port', '0']);
  }, 120_000);

  // A test, not a hook: a browser that cannot start must show as a failure, not as skipped tests.
  it('starts headless Chromium and opens the page of four devices', async () => {
    try {
      browser = await launchChromium();
      page = await browser.context.newPage();
    } catch (error) {
      launchError = error as Error;
      throw error;
    }
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url, { timeout: WAIT });
    await page.waitForFunction(() => document.querySelectorAll('iframe').length === 4, undefined, { timeout: WAIT });
    await allOnline();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('shows a message sent on one device on the sender\'s other device and on the receiver\'s', async () => {
    for (const name of ['alice-phone', 'alice-laptop', 'bob-phone'] as const) await open(device(name), DM);
    await send(device('alice-phone'), 'hello from alice\'s phone');
    await shows(device('alice-laptop'), 'hello from alice\'s phone');
    await shows(device('bob-phone'), 'hello from alice\'s phone');
    // Bob's laptop is on the list: the message shows as its preview.
    await device('bob-laptop').locator(`[data-conv="${DM}"] .preview`, { hasText: 'alice: hello from alice\'s phone' }).waitFor({ timeout: WAIT });
  }, 120_000);

  it('removes a recalled message on every device', async () => {
    await send(device('alice-phone'), 'oops, wrong chat');
    await shows(device('bob-phone'), 'oops, wrong chat');
    await device('alice-phone').locator('.msg', { hasText: 'oops, wrong chat' }).locator('button.recall').click({ timeout: WAIT });
    for (const name of ['alice-phone', 'alice-laptop', 'bob-phone'] as const) {
      await shows(device(name), 'recalled by alice');
      expect(await texts(device(name))).not.toContain('oops, wrong chat');
    }
  }, 120_000);

  it('clears the badge on one device when the user reads on the other', async () => {
    await open(device('bob-phone'), TEAM); // away from the DM, so that it stays unread for now
    await send(device('alice-phone'), 'are you there?');
    await badge(device('bob-laptop'), DM, 1);
    await badge(device('bob-phone'), DM, 1);
    await open(device('bob-phone'), DM); // reading on the phone…
    await shows(device('bob-phone'), 'are you there?');
    await badge(device('bob-laptop'), DM, 0); // …clears the laptop's badge
    await badge(device('bob-phone'), DM, 0);
    // and alice sees it read, on both of her devices.
    for (const name of ['alice-phone', 'alice-laptop'] as const) {
      await device(name).locator('.msg', { hasText: 'are you there?' }).locator('.receipt', { hasText: 'seen by bob' }).waitFor({ timeout: WAIT });
    }
  }, 120_000);

  it('shows an edit on every device', async () => {
    await device('alice-phone').locator('.msg', { hasText: 'are you there?' }).locator('button.edit').click({ timeout: WAIT });
    await device('alice-phone').locator('input[name=text]').fill('are you there, bob?', { timeout: WAIT });
    await device('alice-phone').locator('input[name=text]').press('Enter', { timeout: WAIT });
    for (const name of ['alice-phone', 'alice-laptop', 'bob-phone'] as const) await shows(device(name), 'are you there, bob?');
    expect(await texts(device('bob-phone'))).not.toContain('are you there?');
  }, 120_000);

  it('keeps a device\'s cursor and messages across a reload: only what is new arrives', async () => {
    const before = await texts(device('bob-phone'));
    await device('bob-phone').goto(device('bob-phone').url(), { timeout: WAIT });
    await device('bob-phone').waitForFunction(() => document.body.dataset.online === 'true' && Number(document.body.dataset.syncs) > 0, undefined, { timeout: WAIT });
    expect(await texts(device('bob-phone'))).toEqual(before); // from the device's own store, not refetched
    expect(await device('bob-phone').evaluate(() => document.body.dataset.received)).toBe('0');
    await send(device('alice-phone'), 'welcome back');
    await shows(device('bob-phone'), 'welcome back');
    expect(await device('bob-phone').evaluate(() => document.body.dataset.received)).toBe('1');
  }, 120_000);

  it('loses nothing when the server is killed and restarted on the same data directory', async () => {
    const before = await texts(device('bob-phone'));
    expect(before).toEqual(['hello from alice\'s phone', 'recalled by alice', 'are you there, bob?', 'welcome back']);
    await server.stop('SIGKILL'); // a crash, not a clean shutdown
    for (const name of ['alice-phone', 'bob-phone'] as const) await device(name).waitForFunction(() => document.body.dataset.online === 'false', undefined, { timeout: WAIT });
    server = await startChatServer(['--backend', 'emulator', '--data-dir', dataDir, '--port', String(server.port)]);
    await allOnline();

    // The devices' cursors are still accepted (the server restarted with the same secret and data)…
    await send(device('alice-phone'), 'still here after the restart');
    await shows(device('bob-phone'), 'still here after the restart');
    expect(await texts(device('bob-phone'))).toEqual([...before, 'still here after the restart']);
    for (const name of ['alice-phone', 'alice-laptop', 'bob-phone', 'bob-laptop'] as const) {
      expect(await device(name).evaluate(() => document.body.dataset.resets)).toBe('0');
    }
    // …and a device that never ran before gets all of it from history.
    const tablet = await browser.context.newPage();
    try {
      await tablet.goto(`${server.url}?user=bob&device=tablet`, { timeout: WAIT });
      await tablet.locator(`[data-conv="${DM}"]`).click({ timeout: WAIT });
      await tablet.waitForFunction((n) => document.querySelectorAll('.msg').length === n, before.length + 1, { timeout: WAIT });
      expect(await tablet.locator('.msg .text').allTextContents()).toEqual([...before, 'still here after the restart']);
    } finally {
      await tablet.close();
    }
  }, 300_000);

  it('delivers a read-diffused group by sync, and pages its history on a new device', async () => {
    // carol has no device on the page: she talks through the API, as another client would.
    for (let i = 1; i <= 22; i++) {
      const res = await page.request.post(`${server.url}api/send`, { data: { user: 'carol', conversation: EVERYONE, text: `carol ${i}`, messageId: `carol-${i}` }, timeout: WAIT });
      expect(res.status(), await res.text()).toBe(200);
      expect((await res.json()).mode).toBe('read');
    }
    await badge(device('alice-phone'), EVERYONE, 22);
    await badge(device('alice-laptop'), EVERYONE, 22);
    const tablet = await browser.context.newPage();
    try {
      await tablet.goto(`${server.url}?user=alice&device=tablet`, { timeout: WAIT });
      await tablet.locator(`[data-conv="${EVERYONE}"]`).click({ timeout: WAIT });
      await tablet.waitForFunction(() => document.querySelectorAll('.msg').length === 20, undefined, { timeout: WAIT }); // the first page
      await tablet.locator('button.older').click({ timeout: WAIT });
      await tablet.waitForFunction(() => document.querySelectorAll('.msg').length === 22, undefined, { timeout: WAIT });
      expect(await tablet.locator('.msg .text').allTextContents()).toEqual(Array.from({ length: 22 }, (_, i) => `carol ${i + 1}`));
      expect(await tablet.locator('button.older').count()).toBe(0);
    } finally {
      await tablet.close();
    }
    // Reading on the tablet clears alice's badges on her other devices.
    await badge(device('alice-phone'), EVERYONE, 0);
    await badge(device('alice-laptop'), EVERYONE, 0);
  }, 120_000);

  it('writes the screenshot for the README', async () => {
    await open(device('alice-phone'), TEAM);
    await send(device('alice-phone'), 'lunch at noon?');
    await badge(device('bob-laptop'), TEAM, 1);
    await shows(device('alice-laptop'), 'still here after the restart');
    for (const name of ['alice-phone', 'alice-laptop', 'bob-phone', 'bob-laptop'] as const) {
      await device(name).locator(`[data-conv="${TEAM}"] .preview`, { hasText: 'alice: lunch at noon?' }).waitFor({ timeout: WAIT });
    }
    mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, timeout: WAIT });
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
