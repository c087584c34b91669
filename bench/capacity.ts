/**
 * The capacity suite: evaluates the capacity model (bench/capacity-model.ts) for the source
 * design's scenario, checks that it reproduces the design's figures, regenerates the tables of
 * docs/capacity.md and the chart docs/capacity-tradeoff.svg. Computation only: it takes
 * milliseconds.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  ARTICLE_SCENARIO,
  breakEvenMessagesPerDay,
  cheapestThreshold,
  costPerMessage,
  distributionFacts,
  logSpace,
  sweepThresholds,
  type CapacityParameters,
  type Diffusion,
  type MessageCost,
} from './capacity-model.js';
import { tradeoffChart } from './capacity-chart.js';
import { formatValue, replaceMarked, type ResultRow, type SuiteContext, type SuiteResult } from './harness.js';

/** The Messenger's default large-group threshold (docs/API.md). */
export const DEFAULT_THRESHOLD = 500;
const SWEEP = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

function f(value: number): string {
  return formatValue(Math.round(value * 10) / 10);
}

/** The Markdown tables of docs/capacity.md, by marker name. */
export function capacityTables(params: CapacityParameters): Record<string, string> {
  const facts = distributionFacts(params);
  const best = cheapestThreshold(params, logSpace(10, 10_000, 24));
  const distribution = [
    '| conversations | members | weight (conversations) | messages per conversation per day | share of messages | share of memberships | per user |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...params.classes.map(
      (c, k) =>
        `| ${c.name} | ${c.members.toLocaleString('en-US')} | ${c.conversations} | ${c.messagesPerDay} | ${(facts.messageShare[k]! * 100).toFixed(2)} % | ${(facts.membershipShare[k]! * 100).toFixed(1)} % | ${facts.conversationsPerUser[k]!.toFixed(2)} |`,
    ),
    '',
    `Derived: a message reaches **${f(facts.meanAudience)} inboxes** on average (sender included); a user belongs to ${params.conversationsPerUser} conversations, sends ${f(facts.syncsPerUserPerDay / params.readsPerWrite)} and receives ${f(facts.messagesReceivedPerUserPerDay)} messages a day, and syncs **${f(facts.syncsPerUserPerDay)} times a day** (${params.readsPerWrite} syncs per message sent).`,
  ].join('\n');

  const modes: { label: string; diffusion: Diffusion }[] = [
    { label: 'read diffusion', diffusion: { mode: 'read' } },
    { label: 'write diffusion', diffusion: { mode: 'write' } },
    { label: `hybrid, threshold ${DEFAULT_THRESHOLD} (Messenger default)`, diffusion: { mode: 'hybrid', threshold: DEFAULT_THRESHOLD } },
    { label: `hybrid, threshold ${Math.round(best.threshold).toLocaleString('en-US')} (fewest capacity units)`, diffusion: { mode: 'hybrid', threshold: best.threshold } },
  ];
  const modeRows = modes.map(({ label, diffusion }) => {
    const c = costPerMessage(params, diffusion);
    return `| ${label} | ${f(c.storeRows)} | ${f(c.syncRows)} | ${f(c.writeRequests)} | ${f(c.writeRequestsUnbatched)} | ${f(c.readRequestsPerSync)} | ${f(c.readRequests)} | ${f(c.rowsRead)} | ${f(c.readRequests)} : ${f(c.writeRequests)} | ${f(c.capacityUnits)} |`;
  });
  const comparison = [
    '| per message sent | store rows | sync rows | write requests (batched) | write requests (1 row each) | read requests per sync | read requests | rows read | reads : writes (requests) | capacity units |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...modeRows,
  ].join('\n');

  const sweep = [
    '| threshold | large groups per user | rows written | write requests | read requests | capacity units |',
    '|--:|--:|--:|--:|--:|--:|',
    ...sweepThresholds(params, SWEEP).map(
      (p) =>
        `| ${p.threshold.toLocaleString('en-US')} | ${p.largeGroupsPerUser.toFixed(2)} | ${f(p.cost.rowsWritten)} | ${f(p.cost.writeRequests)} | ${f(p.cost.readRequests)} | ${f(p.cost.capacityUnits)} |`,
    ),
    '',
    `Fewest capacity units at a threshold of about **${Math.round(best.threshold).toLocaleString('en-US')}** (${f(best.cost.capacityUnits)} per message). Break-even activity: a conversation costs fewer units write-diffused while it sends fewer than **${f(breakEvenMessagesPerDay(params))} messages a day** (the syncs per member per day), whatever its size.`,
  ].join('\n');

  const a = article(params);
  const reproduction = [
    '| figure of the source design | model, same unit | model numbers |',
    '|---|---|---|',
    `| reads : writes ≈ 10 : 1 | syncs per message sent (an input) | ${f(params.readsPerWrite)} : 1 |`,
    `| read diffusion ≈ 100 : 1 | read requests : write requests | ${f(a.read.readRequests)} : ${f(a.read.writeRequests)} |`,
    `| write diffusion ≈ 30 : 30 | rows read : rows written | ${f(a.write.rowsRead)} : ${f(a.write.rowsWritten)} |`,
    `| (same, in requests, one row per request as in the design's sample) | read requests : write requests | ${f(a.write.readRequests)} : ${f(a.write.writeRequestsUnbatched)} |`,
    `| (same, in requests, batched 200 rows per request as this library does) | read requests : write requests | ${f(a.write.readRequests)} : ${f(a.write.writeRequests)} |`,
  ].join('\n');
  return { 'capacity-distribution': distribution, 'capacity-modes': comparison, 'capacity-sweep': sweep, 'capacity-article': reproduction };
}

function article(params: CapacityParameters): { read: MessageCost; write: MessageCost } {
  return { read: costPerMessage(params, { mode: 'read' }), write: costPerMessage(params, { mode: 'write' }) };
}

/** The capacity suite: the cost model's tables and chart (computed, not timed). */
export async function runCapacityBench(context: SuiteContext): Promise<SuiteResult> {
  const params = ARTICLE_SCENARIO;
  const { read, write } = article(params);
  const hybrid = costPerMessage(params, { mode: 'hybrid', threshold: DEFAULT_THRESHOLD });
  const best = cheapestThreshold(params, logSpace(10, 10_000, 24));
  const near = (value: number, target: number, tolerance: number): boolean => Math.abs(value - target) <= target * tolerance;
  const rows: ResultRow[] = [
    { metric: 'read diffusion: read requests per message', value: read.readRequests, unit: 'requests', target: '≈ 100 (design: 100:1)', met: near(read.readRequests, 100, 0.1) },
    { metric: 'read diffusion: write requests per message', value: read.writeRequests, unit: 'requests', target: '1', met: read.writeRequests === 1 },
    { metric: 'write diffusion: rows written per message', value: write.rowsWritten, unit: 'rows', target: '≈ 30 (design: 30:30)', met: near(write.rowsWritten, 30, 0.1) },
    { metric: 'write diffusion: rows read per message', value: write.rowsRead, unit: 'rows', target: '≈ 30 (design: 30:30)', met: near(write.rowsRead, 30, 0.1) },
    { metric: 'write diffusion: read requests per message', value: write.readRequests, unit: 'requests', detail: '1 inbox read per sync' },
    { metric: 'write diffusion: write requests per message, 200 rows per batch', value: write.writeRequests, unit: 'requests' },
    { metric: `hybrid, threshold ${DEFAULT_THRESHOLD}: rows written per message`, value: hybrid.rowsWritten, unit: 'rows' },
    { metric: `hybrid, threshold ${DEFAULT_THRESHOLD}: read requests per message`, value: hybrid.readRequests, unit: 'requests' },
    { metric: 'threshold with the fewest capacity units', value: Math.round(best.threshold), unit: 'members', detail: `${f(best.cost.capacityUnits)} units per message` },
  ];
  if (context.write) {
    const chartPath = path.join(context.root, 'docs', 'capacity-tradeoff.svg');
    const chart = tradeoffChart(params, {
      markers: [
        { threshold: DEFAULT_THRESHOLD, label: `Messenger default (${DEFAULT_THRESHOLD})` },
        { threshold: best.threshold, label: `fewest units (${Math.round(best.threshold).toLocaleString('en-US')})` },
      ],
    });
    fs.writeFileSync(chartPath, chart);
    const docPath = path.join(context.root, 'docs', 'capacity.md');
    let doc = fs.existsSync(docPath) ? fs.readFileSync(docPath, 'utf8') : '# Capacity model\n';
    for (const [name, table] of Object.entries(capacityTables(params))) doc = replaceMarked(doc, name, table, name);
    fs.writeFileSync(docPath, doc);
    context.progress('wrote docs/capacity-tradeoff.svg and the tables of docs/capacity.md');
  }
  return {
    rows,
    notes: [
      'Computed by bench/capacity-model.ts for the scenario of docs/capacity.md (reads:writes 10:1, 10 conversations per user, the assumed group-size distribution); targets check that the model reproduces the source design’s figures within 10 %.',
    ],
  };
}

