import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TimelineBackend } from '../core/backend.js';
import { TimelineError } from '../core/errors.js';
import type { RecordBackend, RecordWrite } from '../core/records.js';
import type { ContractContext, ContractFramework } from './contract.js';
import { createSuiteClock } from './suite-clock.js';

/** Options of {@link describeRecordContract}. */
export interface RecordContractOptions {
  /** Name shown in the test report. */
  name: string;
  /** Creates a fresh backend whose `records` capability is tested. Called once. */
  createBackend(context: ContractContext): TimelineBackend | Promise<TimelineBackend>;
  /** Called after the tests, e.g. to stop an emulator. The suite itself closes the backend. */
  destroyBackend?(backend: TimelineBackend): void | Promise<void>;
  /**
   * Whether the backend uses {@link ContractContext.now} for TTL; when false the TTL test is skipped.
   * @default true
   */
  honoursClock?: boolean;
  /**
   * Per-test timeout in milliseconds.
   * @default 30000
   */
  timeout?: number;
}

const DAY_MS = 86_400_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array): string => new TextDecoder().decode(value);

/**
 * Registers the contract suite of the keyed-record capability ({@link RecordBackend}, a backend's
 * optional `records` member): conditional puts and deletes (a claim that two writers can never
 * both win, an update that never creates, compare-and-set on the version), point reads, key-ordered
 * scans with paging, per-write results in a batch, isolation and TTL. The send journal relies on
 * exactly these behaviours.
 *
 * @example
 * ```ts
 * import { describe, it, afterAll } from 'vitest';
 * import { describeRecordContract } from 'tablestore-timeline/testing';
 *
 * describeRecordContract({ describe, it, afterAll }, { name: 'MyBackend', createBackend: ({ now }) => new MyBackend({ now }) });
 * ```
 */
export function describeRecordContract(framework: ContractFramework, options: RecordContractOptions): void {
  const { describe, it } = framework;
  const timeout = options.timeout ?? 30_000;
  const clock = createSuiteClock(Date.UTC(2030, 0, 1));
  const context: ContractContext = { now: clock.now, onClockAdvance: clock.onClockAdvance, firstSeq: 1n };
  let backendPromise: Promise<TimelineBackend> | undefined;
  const backend = (): Promise<TimelineBackend> => (backendPromise ??= Promise.resolve(options.createBackend(context)));
  const records = async (): Promise<RecordBackend> => {
    const r = (await backend()).records;
    assert.ok(r !== undefined, `${options.name} has no records capability (backend.records is undefined)`);
    return r;
  };
  const table = async (ttlSeconds = -1): Promise<string> => {
    const name = `records_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await (await records()).ensureRecordTable({ table: name, ttlSeconds });
    return name;
  };
  const part = (): string => `p:${randomUUID()}`;
  const put = (partition: string, key: string, value: string, version: string, expect?: RecordWrite['expect']): RecordWrite =>
    expect === undefined ? { type: 'put', partition, key, value: bytes(value), version } : { type: 'put', partition, key, value: bytes(value), version, expect };
  const test = (name: string, fn: () => Promise<void>): void => it(name, fn, timeout);

  describe(`RecordBackend contract: ${options.name}`, () => {
    framework.afterAll?.(async () => {
      if (backendPromise === undefined) return;
      const b = await backendPromise;
      await b.close();
      await options.destroyBackend?.(b);
    });

    test('declares usable limits', async () => {
      const limits = (await records()).recordLimits;
      for (const key of ['maxBatchWrites', 'maxValueBytes', 'maxKeyBytes', 'maxScanPageRecords'] as const) {
        assert.ok(Number.isSafeInteger(limits[key]) && limits[key] > 0, `recordLimits.${key} must be a positive integer`);
      }
    });

    test('ensureRecordTable creates once, then verifies; a TTL mismatch is an error unless update is asked', async () => {
      const r = await records();
      const name = `records_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      assert.equal((await r.ensureRecordTable({ table: name, ttlSeconds: -1 })).created, true);
      const again = await r.ensureRecordTable({ table: name, ttlSeconds: -1 });
      assert.equal(again.created, false);
      assert.equal(again.ttlUpdated, false);
      await assert.rejects(r.ensureRecordTable({ table: name, ttlSeconds: 86400 }), (e: unknown) => e instanceof TimelineError && e.code === 'TABLE_INCOMPATIBLE');
      const updated = await r.ensureRecordTable({ table: name, ttlSeconds: 86400 }, { onTtlMismatch: 'update' });
      assert.equal(updated.ttlUpdated, true);
    });

    test('put and get round-trip value and version; an absent record reads as undefined', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'v1', 'ver-1')]), [{ ok: true }]);
      const got = await r.getRecord(t, p, 'k');
      assert.ok(got !== undefined);
      assert.equal(text(got.value), 'v1');
      assert.equal(got.version, 'ver-1');
      assert.equal(got.partition, p);
      assert.equal(got.key, 'k');
      assert.equal(await r.getRecord(t, p, 'missing'), undefined);
      assert.equal(await r.getRecord(t, part(), 'k'), undefined);
    });

    test("'absent' claims once: the second claim conflicts and changes nothing", async () => {
      const r = await records();
      const t = await table();
      const p = part();
      assert.deepEqual(await r.writeRecords(t, [put(p, 'claim', 'first', 'a', 'absent')]), [{ ok: true }]);
      assert.deepEqual(await r.writeRecords(t, [put(p, 'claim', 'second', 'b', 'absent')]), [{ ok: false, conflict: true }]);
      const got = await r.getRecord(t, p, 'claim');
      assert.equal(text(got!.value), 'first');
      assert.equal(got!.version, 'a');
    });

    test('concurrent claims of one key: exactly one wins', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => r.writeRecords(t, [put(p, 'k', `writer-${i}`, `v-${i}`, 'absent')])));
      const winners = results.map((res, i) => (res[0]!.ok ? i : -1)).filter((i) => i >= 0);
      assert.equal(winners.length, 1);
      assert.equal(text((await r.getRecord(t, p, 'k'))!.value), `writer-${winners[0]}`);
    });

    test("'present' never creates; it replaces an existing record", async () => {
      const r = await records();
      const t = await table();
      const p = part();
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'x', 'v1', 'present')]), [{ ok: false, conflict: true }]);
      assert.equal(await r.getRecord(t, p, 'k'), undefined);
      await r.writeRecords(t, [put(p, 'k', 'x', 'v1')]);
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'y', 'v2', 'present')]), [{ ok: true }]);
      assert.equal((await r.getRecord(t, p, 'k'))!.version, 'v2');
    });

    test('compare-and-set on the version: only the writer holding the current version wins', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      await r.writeRecords(t, [put(p, 'k', 'base', 'v1')]);
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'from-a', 'v2a', { version: 'v1' })]), [{ ok: true }]);
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'from-b', 'v2b', { version: 'v1' })]), [{ ok: false, conflict: true }]);
      assert.equal(text((await r.getRecord(t, p, 'k'))!.value), 'from-a');
      // A version condition on a missing record never creates it.
      assert.deepEqual(await r.writeRecords(t, [put(p, 'other', 'x', 'v9', { version: 'v1' })]), [{ ok: false, conflict: true }]);
      assert.equal(await r.getRecord(t, p, 'other'), undefined);
    });

    test('monotonic put (versionBelow): creates when absent, applies only over a smaller version in UTF-8 byte order', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'at-5', '05.a', { versionBelow: '05' })]), [{ ok: true }]);
      // Equal position (its version '05.a' sorts after '05'): a conflict, the record stays.
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'at-5-again', '05.b', { versionBelow: '05' })]), [{ ok: false, conflict: true }]);
      // A stale writer cannot move it back.
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'at-3', '03.c', { versionBelow: '03' })]), [{ ok: false, conflict: true }]);
      assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'at-9', '09.d', { versionBelow: '09' })]), [{ ok: true }]);
      assert.equal(text((await r.getRecord(t, p, 'k'))!.value), 'at-9');
      // Byte order of UTF-8, not UTF-16 code units: U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80).
      await r.writeRecords(t, [put(p, 'u', 'x', '\u{1F600}')]);
      assert.deepEqual(await r.writeRecords(t, [put(p, 'u', 'y', '\uFF61', { versionBelow: '\uFF61' })]), [{ ok: false, conflict: true }]);
      await r.writeRecords(t, [put(p, 'w', 'x', '\uFF61')]);
      assert.deepEqual(await r.writeRecords(t, [put(p, 'w', 'y', '\u{1F600}', { versionBelow: '\u{1F600}' })]), [{ ok: true }]);
    });

    test('delete: unconditional on a missing record succeeds; a version mismatch conflicts and keeps the record', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      assert.deepEqual(await r.writeRecords(t, [{ type: 'delete', partition: p, key: 'none' }]), [{ ok: true }]);
      await r.writeRecords(t, [put(p, 'k', 'x', 'v1')]);
      assert.deepEqual(await r.writeRecords(t, [{ type: 'delete', partition: p, key: 'k', expect: { version: 'other' } }]), [{ ok: false, conflict: true }]);
      assert.ok((await r.getRecord(t, p, 'k')) !== undefined);
      assert.deepEqual(await r.writeRecords(t, [{ type: 'delete', partition: p, key: 'k', expect: { version: 'v1' } }]), [{ ok: true }]);
      assert.equal(await r.getRecord(t, p, 'k'), undefined);
      assert.deepEqual(await r.writeRecords(t, [{ type: 'delete', partition: p, key: 'k', expect: 'present' }]), [{ ok: false, conflict: true }]);
    });

    test('a batch answers each write on its own, in input order', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      const q = part();
      await r.writeRecords(t, [put(p, 'taken', 'x', 'v1')]);
      const results = await r.writeRecords(t, [put(p, 'taken', 'y', 'v2', 'absent'), put(p, 'free', 'z', 'v3', 'absent'), put(q, 'taken', 'w', 'v4', 'absent')]);
      assert.deepEqual(results, [{ ok: false, conflict: true }, { ok: true }, { ok: true }]);
      assert.equal(text((await r.getRecord(t, p, 'taken'))!.value), 'x');
      assert.equal(text((await r.getRecord(t, q, 'taken'))!.value), 'w');
    });

    test('scan lists one partition in UTF-8 byte order, within [start, end), page by page', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      // '\uFFFD' (3 UTF-8 bytes, EF BF BD) sorts before '\u{1F600}' (4 bytes, F0 ...) in byte order,
      // although its UTF-16 code unit is larger.
      const keys = ['a', 'b', 'ba', 'c', '\uFFFD', '\u{1F600}', 'é'];
      await r.writeRecords(t, keys.map((k, i) => put(p, k, `v${i}`, `ver${i}`)));
      await r.writeRecords(t, [put(part(), 'a', 'other partition', 'x')]);
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const all: string[] = [];
      let start: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await r.scanRecords(t, { partition: p, limit: 2, ...(start === undefined ? {} : { start }) });
        assert.ok(page.records.length <= 2);
        all.push(...page.records.map((rec) => rec.key));
        if (page.next === undefined) break;
        start = page.next;
      }
      assert.deepEqual(all, expected);
      const ranged = await r.scanRecords(t, { partition: p, start: 'b', end: 'c', limit: 100 });
      assert.deepEqual(ranged.records.map((rec) => rec.key), ['b', 'ba']);
      assert.equal(ranged.next, undefined);
      assert.equal(text(ranged.records[0]!.value), 'v1');
      assert.deepEqual((await r.scanRecords(t, { partition: part(), limit: 10 })).records, []);
    });

    test('stored values are copies: changing the buffers afterwards changes nothing', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      const value = bytes('original');
      await r.writeRecords(t, [{ type: 'put', partition: p, key: 'k', value, version: 'v' }]);
      value.fill(0);
      const first = await r.getRecord(t, p, 'k');
      first!.value.fill(0);
      assert.equal(text((await r.getRecord(t, p, 'k'))!.value), 'original');
    });

    test('tables are isolated from each other', async () => {
      const r = await records();
      const t1 = await table();
      const t2 = await table();
      const p = part();
      await r.writeRecords(t1, [put(p, 'k', 'one', 'v1')]);
      assert.equal(await r.getRecord(t2, p, 'k'), undefined);
      assert.deepEqual(await r.writeRecords(t2, [put(p, 'k', 'two', 'v2', 'absent')]), [{ ok: true }]);
    });

    test('a call over maxBatchWrites is rejected as a whole with a TimelineError', async () => {
      const r = await records();
      const t = await table();
      const p = part();
      const writes = Array.from({ length: r.recordLimits.maxBatchWrites + 1 }, (_, i) => put(p, `k${i}`, 'x', `v${i}`));
      await assert.rejects(r.writeRecords(t, writes), (e: unknown) => e instanceof TimelineError);
      assert.equal(await r.getRecord(t, p, 'k0'), undefined);
    });

    if (options.honoursClock ?? true) {
      test('records expire after the table TTL, and an expired record can be claimed again', async () => {
        const r = await records();
        const t = await table(86400);
        const p = part();
        await r.writeRecords(t, [put(p, 'k', 'x', 'v1', 'absent')]);
        await clock.advance(DAY_MS / 2);
        assert.ok((await r.getRecord(t, p, 'k')) !== undefined);
        await clock.advance(DAY_MS);
        assert.equal(await r.getRecord(t, p, 'k'), undefined);
        assert.deepEqual((await r.scanRecords(t, { partition: p, limit: 10 })).records, []);
        assert.deepEqual(await r.writeRecords(t, [put(p, 'k', 'y', 'v2', 'absent')]), [{ ok: true }]);
      });
    }
  });
}
