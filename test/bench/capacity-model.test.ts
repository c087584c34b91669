import { describe, expect, it } from 'vitest';
import {
  ARTICLE_SCENARIO,
  breakEvenMessagesPerDay,
  cheapestThreshold,
  costPerMessage,
  DEFAULT_CLASSES,
  distributionFacts,
  inboxesPerMessage,
  isWriteDiffused,
  logSpace,
  pagesFor,
  sweepThresholds,
  writeRequestsForMessage,
  type CapacityParameters,
  type ConversationClass,
} from '../../bench/capacity-model.js';
import { niceLogTicks, tradeoffChart } from '../../bench/capacity-chart.js';
import { capacityTables } from '../../bench/capacity.js';

const close = (actual: number, expected: number, digits = 9): void => expect(actual).toBeCloseTo(expected, digits);

function params(classes: ConversationClass[], overrides: Partial<CapacityParameters> = {}): CapacityParameters {
  return { classes, readsPerWrite: 10, conversationsPerUser: 10, ...overrides };
}

const chats: ConversationClass = { name: '1:1', members: 2, conversations: 100, messagesPerDay: 10 };
const big: ConversationClass = { name: 'big', members: 1000, conversations: 1, messagesPerDay: 100 };

describe('request arithmetic', () => {
  it('write requests of one write-diffused message are 1 + ceil(inboxes / 200)', () => {
    expect(writeRequestsForMessage(2)).toBe(2);
    expect(writeRequestsForMessage(200)).toBe(2);
    expect(writeRequestsForMessage(201)).toBe(3);
    expect(writeRequestsForMessage(10_000)).toBe(51);
    expect(writeRequestsForMessage(10, 4)).toBe(4);
  });

  it('a read costs at least one request, then one per 5000-row page', () => {
    expect(pagesFor(0)).toBe(1);
    expect(pagesFor(3.2)).toBe(1);
    expect(pagesFor(5000)).toBe(1);
    expect(pagesFor(5001)).toBe(2);
    expect(pagesFor(12_000, 1000)).toBe(12);
  });

  it('the sender’s inbox is counted unless turned off', () => {
    expect(inboxesPerMessage(5)).toBe(5);
    expect(inboxesPerMessage(5, false)).toBe(4);
  });

  it('the threshold is inclusive: a group of exactly the threshold is write-diffused', () => {
    expect(isWriteDiffused(500, { mode: 'hybrid', threshold: 500 })).toBe(true);
    expect(isWriteDiffused(501, { mode: 'hybrid', threshold: 500 })).toBe(false);
    expect(isWriteDiffused(10_000, { mode: 'write' })).toBe(true);
    expect(isWriteDiffused(2, { mode: 'read' })).toBe(false);
  });
});

describe('distributionFacts', () => {
  it('derives shares that sum to 1 and per-user conversations that sum to conversationsPerUser', () => {
    const facts = distributionFacts(ARTICLE_SCENARIO);
    close(facts.messageShare.reduce((a, b) => a + b, 0), 1);
    close(facts.membershipShare.reduce((a, b) => a + b, 0), 1);
    close(facts.conversationsPerUser.reduce((a, b) => a + b, 0), ARTICLE_SCENARIO.conversationsPerUser);
  });

  it('weights messages by conversations × messages per day, and memberships by conversations × members', () => {
    const facts = distributionFacts(params([chats, big]));
    // 100 × 10 = 1000 messages vs 1 × 100 = 100; 100 × 2 = 200 memberships vs 1 × 1000 = 1000.
    close(facts.messageShare[0]!, 1000 / 1100);
    close(facts.membershipShare[1]!, 1000 / 1200);
    close(facts.meanAudience, (1000 * 2 + 100 * 1000) / 1100);
    // Users = 1200 memberships / 10 = 120; 1100 messages a day / 120 users, 10 syncs per message.
    close(facts.syncsPerUserPerDay, (10 * 1100) / 120);
  });

  it('rejects unusable parameters with a message naming the field', () => {
    expect(() => distributionFacts(params([]))).toThrow(/classes/);
    expect(() => distributionFacts(params([{ ...chats, members: 1 }]))).toThrow(/members/);
    expect(() => distributionFacts(params([chats], { conversationsPerUser: 0 }))).toThrow(/conversationsPerUser/);
    expect(() => distributionFacts(params([chats], { batchRows: 0 }))).toThrow(/batchRows/);
    expect(() => costPerMessage(params([chats]), { mode: 'hybrid', threshold: Number.NaN })).toThrow(/threshold/);
  });
});

describe('costPerMessage', () => {
  it('read diffusion: one store row and request; a sync reads every conversation', () => {
    const cost = costPerMessage(params([chats, big]), { mode: 'read' });
    expect(cost).toMatchObject({ storeRows: 1, syncRows: 0, rowsWritten: 1, writeRequests: 1, writeRequestsUnbatched: 1 });
    close(cost.readRequestsPerSync, 10);
    close(cost.readRequests, 100);
  });

  it('write diffusion: one row per inbox, batched by 200; a sync reads one inbox', () => {
    const cost = costPerMessage(params([big]), { mode: 'write' });
    expect(cost.syncRows).toBe(1000);
    expect(cost.rowsWritten).toBe(1001);
    expect(cost.writeRequests).toBe(writeRequestsForMessage(1000));
    expect(cost.writeRequestsUnbatched).toBe(1001);
    expect(cost.readRequestsPerSync).toBe(1);
    expect(cost.readRequests).toBe(10);
    expect(cost.rowsRead).toBe(1000);
  });

  it('hybrid: 1 + large groups per sync, and no inbox rows for large groups', () => {
    const p = params([chats, big]);
    const facts = distributionFacts(p);
    const cost = costPerMessage(p, { mode: 'hybrid', threshold: 500 });
    close(cost.syncRows, facts.messageShare[0]! * 2);
    close(cost.readRequestsPerSync, 1 + facts.conversationsPerUser[1]!);
    close(cost.readRequests, 10 * (1 + facts.conversationsPerUser[1]!));
  });

  it('hybrid equals write diffusion above the largest group, and reads every conversation below the smallest', () => {
    const p = ARTICLE_SCENARIO;
    const write = costPerMessage(p, { mode: 'write' });
    expect(costPerMessage(p, { mode: 'hybrid', threshold: 10_000 })).toEqual(write);
    const read = costPerMessage(p, { mode: 'read' });
    const none = costPerMessage(p, { mode: 'hybrid', threshold: 1 });
    expect(none.rowsWritten).toBe(1);
    // The hybrid still reads the (empty) inbox on every sync.
    close(none.readRequests, read.readRequests + p.readsPerWrite);
  });

  it('pages a backlog: a sync that finds more than 5000 rows costs more than one read', () => {
    // One sync per 100 messages sent: each inbox read finds ~1000 × 0.01 × 100 rows.
    const p = params([big], { readsPerWrite: 0.01, conversationsPerUser: 1 });
    const facts = distributionFacts(p);
    const rowsPerSync = facts.messagesReceivedPerUserPerDay / facts.syncsPerUserPerDay;
    expect(rowsPerSync).toBeGreaterThan(5000);
    expect(costPerMessage(p, { mode: 'write' }).readRequestsPerSync).toBe(Math.ceil(rowsPerSync / 5000));
    expect(costPerMessage(p, { mode: 'read' }).readRequestsPerSync).toBe(Math.ceil(rowsPerSync / 5000));
  });

  it('without the sender’s inbox, a message goes to members - 1 inboxes', () => {
    expect(costPerMessage(params([chats], { senderInbox: false }), { mode: 'write' }).syncRows).toBe(1);
  });

  it('totals add up', () => {
    const cost = costPerMessage(ARTICLE_SCENARIO, { mode: 'hybrid', threshold: 500 });
    close(cost.rowsWritten, cost.storeRows + cost.syncRows);
    close(cost.requests, cost.writeRequests + cost.readRequests);
    close(cost.capacityUnits, cost.rowsWritten + cost.readRequests);
  });
});

describe('the source design’s figures', () => {
  it('10:1 becomes 100:1 under read diffusion (requests)', () => {
    const read = costPerMessage(ARTICLE_SCENARIO, { mode: 'read' });
    expect(read.readRequests / read.writeRequests).toBe(100);
  });

  it('write diffusion rebalances to about 30:30 (rows read : rows written)', () => {
    const write = costPerMessage(ARTICLE_SCENARIO, { mode: 'write' });
    expect(write.rowsRead).toBeGreaterThan(27);
    expect(write.rowsRead).toBeLessThan(33);
    expect(write.rowsWritten).toBeGreaterThan(27);
    expect(write.rowsWritten).toBeLessThan(33);
    // In requests, batching makes the writes far cheaper than 30.
    expect(write.writeRequests).toBeLessThan(3);
    expect(write.readRequests).toBe(10);
  });
});

describe('thresholds', () => {
  it('raising the threshold never lowers rows written nor raises read requests', () => {
    const sweep = sweepThresholds(ARTICLE_SCENARIO, logSpace(1, 20_000, 12));
    for (let i = 1; i < sweep.length; i++) {
      expect(sweep[i]!.cost.rowsWritten).toBeGreaterThanOrEqual(sweep[i - 1]!.cost.rowsWritten);
      expect(sweep[i]!.cost.readRequests).toBeLessThanOrEqual(sweep[i - 1]!.cost.readRequests + 1e-9);
      expect(sweep[i]!.largeGroupsPerUser).toBeLessThanOrEqual(sweep[i - 1]!.largeGroupsPerUser + 1e-9);
    }
  });

  it('break-even: write diffusion saves units for a group quieter than a member syncs, and costs units for a busier one', () => {
    const syncs = breakEvenMessagesPerDay(params([chats, { ...big, messagesPerDay: 1 }]));
    for (const [rate, cheaperWritten] of [
      [syncs * 0.5, true],
      [syncs * 2, false],
    ] as const) {
      // The group's own rate moves the break-even point too: solve for the same relation after the change.
      const p = params([chats, { ...big, messagesPerDay: rate }]);
      const breakEven = breakEvenMessagesPerDay(p);
      const written = costPerMessage(p, { mode: 'write' }).capacityUnits;
      const read = costPerMessage(p, { mode: 'hybrid', threshold: 999 }).capacityUnits;
      expect(rate < breakEven).toBe(cheaperWritten);
      expect(written < read).toBe(cheaperWritten);
    }
  });

  it('cheapestThreshold finds the minimum of capacity units over the given thresholds', () => {
    const thresholds = logSpace(10, 10_000, 24);
    const best = cheapestThreshold(ARTICLE_SCENARIO, thresholds);
    for (const point of sweepThresholds(ARTICLE_SCENARIO, thresholds)) expect(best.cost.capacityUnits).toBeLessThanOrEqual(point.cost.capacityUnits + 1e-9);
  });

  it('logSpace includes both ends', () => {
    const values = logSpace(10, 10_000, 3);
    expect(values).toHaveLength(10);
    expect(values[0]).toBe(10);
    expect(values.at(-1)).toBe(10_000);
    close(values[3]!, 100, 6);
    expect(() => logSpace(0, 10, 1)).toThrow(RangeError);
  });
});

describe('chart and tables', () => {
  it('the chart is deterministic, well-formed SVG with one path per series', () => {
    const a = tradeoffChart(ARTICLE_SCENARIO, { markers: [{ threshold: 500, label: 'default <500>' }] });
    expect(tradeoffChart(ARTICLE_SCENARIO, { markers: [{ threshold: 500, label: 'default <500>' }] })).toBe(a);
    expect(a.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(a.trimEnd().endsWith('</svg>')).toBe(true);
    expect(a.match(/<path /g)).toHaveLength(4);
    expect(a).toContain('default &lt;500&gt;');
    // Every element is closed: a stack of open tags ends empty.
    const stack: string[] = [];
    for (const [, close, name, selfClosing] of a.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (selfClosing) continue;
      if (close) expect(stack.pop()).toBe(name);
      else stack.push(name!);
    }
    expect(stack).toEqual([]);
    expect(a).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('ticks are 1-2-5 steps', () => {
    expect(niceLogTicks(10, 1000)).toEqual([10, 20, 50, 100, 200, 500, 1000]);
  });

  it('the doc tables carry the model’s numbers', () => {
    const tables = capacityTables(ARTICLE_SCENARIO);
    expect(Object.keys(tables)).toEqual(['capacity-distribution', 'capacity-modes', 'capacity-sweep', 'capacity-article']);
    expect(tables['capacity-article']).toContain('| 100 : 1 |');
    expect(tables['capacity-distribution']!.split('\n').filter((l) => l.startsWith('| group of') || l.startsWith('| 1:1'))).toHaveLength(DEFAULT_CLASSES.length);
  });
});
