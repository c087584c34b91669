// A send journal claim stranded by a held write, pinned down: the claim's BatchWriteRow is held by
// the service past the client's request timeout, the journal reads the record back and finds
// nothing, and only then does the service apply the held claim. The claim now names an owner that
// gave up on it, so the send waits for its lease (docs/guarantees.md, "Limits": a request the
// service holds past the check). This is what made one fault-matrix run on a loaded machine take
// 83 s and 46,241 requests, and others 500 s and fail: the suites' Messenger clock ticked only per
// reading, so a 30 s lease lasted 30,000 readings. With a lease that lapses in time (leaseClock),
// the waiting send takes its own stranded claim over; with the ticking clock alone it gives up
// with SEND_IN_PROGRESS (the negative control, so that the first case can fail).
//
// Deterministic: the held write is released by the test right after the read-back, not by a
// timer; both transports.
import { afterEach, describe, expect, it } from 'vitest';
import { TimelineError, type RecordBackend } from '../../src/index.js';
import { buildMessenger, leaseClock, processRig, rawRows, tickingClock, TimedBackend, type ProcessRig } from './harness.js';

/** Releases the service's held requests right after the first record read returns. */
class ReleaseAfterReadBack extends TimedBackend {
  readBacks = 0;
  constructor(
    private readonly rig: ProcessRig,
  ) {
    super(rig.backend);
  }

  override get records(): RecordBackend {
    const inner = this.rig.backend.records!;
    return {
      recordLimits: inner.recordLimits,
      ensureRecordTable: (spec, options) => inner.ensureRecordTable(spec, options),
      writeRecords: (table, writes, options) => inner.writeRecords(table, writes, options),
      scanRecords: (table, request) => inner.scanRecords(table, request),
      getRecord: async (table, partition, key, options) => {
        const record = await inner.getRecord(table, partition, key, options);
        if (this.readBacks++ === 0) await this.rig.emu.faults.release();
        return record;
      },
    };
  }
}

let rig: ProcessRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe.each(['sdk', 'wire'] as const)('a journal claim stranded by a held write (%s transport)', { timeout: 60_000 }, (transport) => {
  async function strand(now: () => number): Promise<{ outcome: unknown; backend: ReleaseAfterReadBack; table: string }> {
    rig = await processRig(7001, { requestTimeoutMs: 300 }, {}, { transport });
    const backend = new ReleaseAfterReadBack(rig);
    const { messenger, history, inbox } = buildMessenger(backend, { now, journal: { leaseMs: 1000, claimWaitMs: 4000 } });
    await Promise.all([history.init(), inbox.init()]);
    // The send's first BatchWriteRow is its claim (the journal record and its pending hint).
    await rig.emu.faults.inject({ api: 'BatchWriteRow', hold: 'until-released', times: 1 });
    const outcome = await messenger
      .send({ conversationId: 'c', senderId: 'a', recipients: ['a', 'b'], message: { k: 0, text: 'x' }, messageId: 'm0' })
      .catch((error: unknown) => error);
    return { outcome, backend, table: history.table };
  }

  it('is taken over by the waiting send once its lease lapses in time: stored once', async () => {
    const { outcome, backend, table } = await strand(leaseClock());
    // The read-back happened and released the held claim: the claim was stranded.
    expect(backend.readBacks).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ duplicate: false, fanOut: { failed: [] } });
    expect((await rawRows(rig!.emu, table)).map((r) => r.messageId)).toEqual(['m0']);
  });

  it('negative control: on a clock that ticks only per reading the lease outlives the claim wait (SEND_IN_PROGRESS), nothing stored', async () => {
    const { outcome, backend, table } = await strand(tickingClock());
    expect(backend.readBacks).toBeGreaterThan(0);
    expect(outcome).toBeInstanceOf(TimelineError);
    expect(outcome).toMatchObject({ code: 'SEND_IN_PROGRESS', retryable: true });
    expect(await rawRows(rig!.emu, table)).toEqual([]);
  });
});
