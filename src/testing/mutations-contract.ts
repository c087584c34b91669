import assert from 'node:assert/strict';
import type { TimelineBackend } from '../core/backend.js';
import { TimelineError } from '../core/errors.js';
import type { TimelineStore } from '../core/timeline-store.js';

/** What the mutation tests need from the backend contract suite. */
export interface MutationSuiteContext {
  readonly backend: () => Promise<TimelineBackend>;
  readonly store: () => Promise<TimelineStore<{ n: number; text?: string; big?: bigint }>>;
  readonly id: () => string;
  readonly test: (name: string, fn: () => Promise<void>) => void;
}

async function rejectsWith(fn: () => Promise<unknown>, code: string, what: string): Promise<TimelineError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TimelineError, `${what}: expected a TimelineError ${code}, got ${String(caught)}`);
  assert.equal((caught as TimelineError).code, code, `${what}: ${(caught as TimelineError).message}`);
  return caught as TimelineError;
}

/**
 * The contract of the optional `mutations` capability (in-place update and delete). A backend
 * without it must make `Timeline.update` and `Timeline.delete` reject with `NOT_SUPPORTED`.
 * @internal
 */
export function describeMutations(ctx: MutationSuiteContext): void {
  const { test, store, id } = ctx;
  test('mutations (optional): update replaces in place, keeps seq and message id, never creates; delete is idempotent', async () => {
    const s = await store();
    const tl = s.timeline(id());
    if ((await ctx.backend()).mutations === undefined) {
      await rejectsWith(() => tl.update(1n, { n: 1 }), 'NOT_SUPPORTED', 'update without the capability');
      await rejectsWith(() => tl.delete(1n), 'NOT_SUPPORTED', 'delete without the capability');
      return;
    }
    const a = await tl.append({ n: 1 }, { messageId: 'keep-me' });
    const b = await tl.append({ n: 2 });
    const c = await tl.append({ n: 3 });
    await tl.update(a.seq, { n: 10, text: 'edited', big: 2n ** 62n + 1n });
    await tl.update(a.seq, { n: 10, text: 'edited', big: 2n ** 62n + 1n }); // idempotent
    assert.deepEqual(await tl.get(a.seq), { timelineId: tl.id, seq: a.seq, message: { n: 10, text: 'edited', big: 2n ** 62n + 1n }, messageId: 'keep-me' });
    // A shorter payload after a longer one leaves nothing of the longer one behind.
    await tl.update(b.seq, { n: 20, text: 'x'.repeat(5000) });
    await tl.update(b.seq, { n: 21 });
    assert.deepEqual((await tl.get(b.seq))?.message, { n: 21 });

    // An update of a seq that holds no entry fails and creates nothing.
    const missing = c.seq + 1_000n;
    const error = await rejectsWith(() => tl.update(missing, { n: 99 }), 'NOT_FOUND', 'update of a missing seq');
    assert.match(error.message, /no entry/);
    assert.equal(await tl.get(missing), undefined, 'update of a missing seq created nothing');
    const other = s.timeline(id());
    await rejectsWith(() => other.update(a.seq, { n: 99 }), 'NOT_FOUND', 'update in another timeline');
    assert.equal(await other.latest(), undefined, 'update in an empty timeline created nothing');

    // Delete: gone from get and scan, idempotent, the seq is never reused, update of it fails.
    await tl.delete(b.seq);
    await tl.delete(b.seq);
    await tl.delete(missing);
    assert.equal(await tl.get(b.seq), undefined);
    const seqs: bigint[] = [];
    for await (const e of tl.scan()) seqs.push(e.seq);
    assert.deepEqual(seqs, [a.seq, c.seq]);
    const back: bigint[] = [];
    for await (const e of tl.scan({ direction: 'backward' })) back.push(e.seq);
    assert.deepEqual(back, [c.seq, a.seq]);
    await rejectsWith(() => tl.update(b.seq, { n: 5 }), 'NOT_FOUND', 'update of a deleted entry');
    assert.equal(await tl.get(b.seq), undefined, 'update of a deleted entry did not bring it back');
    await tl.delete(c.seq);
    const d = await tl.append({ n: 4 });
    assert.ok(d.seq > c.seq, 'a deleted seq is never reused');
  });
}
