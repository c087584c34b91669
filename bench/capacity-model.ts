/**
 * The capacity model of docs/capacity.md: rows written, requests and reads per message under read,
 * write and hybrid diffusion, for a distribution of conversations by size and a read:write ratio.
 * Pure functions, no I/O; unit-tested in test/bench/capacity-model.test.ts.
 *
 * Units. Everything is "per message sent", averaged over the messages of the distribution:
 * - a *row written* is one row put into a table (TableStore bills a write by rows, at least one
 *   capacity unit per row of up to 4 KB);
 * - a *write request* is one call: a store write is one PutRow, a fan-out of n rows takes
 *   ceil(n / batchRows) BatchWriteRow calls (TableStore: at most 200 rows per call);
 * - a *read request* is one range read of one timeline page (GetRange, at most 5000 rows per page;
 *   at least one capacity unit each, even when it finds nothing).
 *
 * Reads come from syncs: `readsPerWrite` syncs happen per message sent (the read:write ratio of the
 * application, e.g. 10). A sync reads the user's inbox (write diffusion), or every conversation the
 * user belongs to (read diffusion), or the inbox plus every large group (hybrid).
 */

/** A class of conversations of one size. */
export interface ConversationClass {
  /** Label, e.g. `'1:1 chat'`. */
  readonly name: string;
  /** Members, the sender included (a 1:1 chat has 2). */
  readonly members: number;
  /** Relative number of conversations of this class (weights need not sum to 1). */
  readonly conversations: number;
  /** Messages sent per conversation per day. */
  readonly messagesPerDay: number;
}

/** Inputs of the model. */
export interface CapacityParameters {
  /** Conversations by size. */
  readonly classes: readonly ConversationClass[];
  /** Syncs per message sent: the application's read:write ratio (the source design says about 10). */
  readonly readsPerWrite: number;
  /** Conversations a user belongs to. How many are of each class follows from `classes`. */
  readonly conversationsPerUser: number;
  /**
   * Rows per batch write request.
   * @default 200 (TableStore BatchWriteRow)
   */
  readonly batchRows?: number;
  /**
   * Rows per range-read page.
   * @default 5000 (TableStore GetRange)
   */
  readonly scanPageRows?: number;
  /**
   * Whether the sender's own inbox receives the message too, so that the sender's other devices
   * sync it. When false a message goes to members - 1 inboxes.
   * @default true
   */
  readonly senderInbox?: boolean;
}

/** How messages reach receivers. */
export type Diffusion = { readonly mode: 'read' } | { readonly mode: 'write' } | { readonly mode: 'hybrid'; readonly threshold: number };

/** Cost per message sent. */
export interface MessageCost {
  /** Rows written to the message store (the conversation's timeline): always 1. */
  readonly storeRows: number;
  /** Rows written to sync timelines (inboxes). */
  readonly syncRows: number;
  /** storeRows + syncRows. */
  readonly rowsWritten: number;
  /** Write requests with batching: 1 store write + ceil(inboxes / batchRows) per write-diffused message. */
  readonly writeRequests: number;
  /** Write requests when every row is its own request (the source design's sample code). */
  readonly writeRequestsUnbatched: number;
  /** Read requests one sync costs (average over users). */
  readonly readRequestsPerSync: number;
  /** Read requests per message: readsPerWrite × readRequestsPerSync. */
  readonly readRequests: number;
  /** Rows returned by reads per message: each receiver reads each message once. */
  readonly rowsRead: number;
  /** writeRequests + readRequests. */
  readonly requests: number;
  /** Capacity units, approximated as rowsWritten + readRequests (1 per row written, 1 per small read). */
  readonly capacityUnits: number;
}

/** Facts derived from a distribution, shared by every diffusion mode. */
export interface DistributionFacts {
  /** Per class: share of all messages sent. Sums to 1. */
  readonly messageShare: readonly number[];
  /** Per class: share of all memberships (a conversation of n members is n memberships). Sums to 1. */
  readonly membershipShare: readonly number[];
  /** Per class: conversations of this class a user belongs to. Sums to conversationsPerUser. */
  readonly conversationsPerUser: readonly number[];
  /** Inboxes a message goes to, averaged over messages. */
  readonly meanAudience: number;
  /** Members of the conversation of an average membership (what a user sees). */
  readonly meanMembership: number;
  /** Syncs per user per day implied by readsPerWrite (syncs per message × messages ÷ users). */
  readonly syncsPerUserPerDay: number;
  /** Messages a user receives per day (from all conversations). */
  readonly messagesReceivedPerUserPerDay: number;
}

const DEFAULT_BATCH_ROWS = 200;
const DEFAULT_SCAN_PAGE_ROWS = 5000;

/**
 * The assumed distribution of docs/capacity.md: a chat service where most conversations are 1:1
 * chats, groups get rarer as they grow, and large groups are busier than small ones. Illustrative,
 * not measured: replace it with your own numbers.
 */
export const DEFAULT_CLASSES: readonly ConversationClass[] = Object.freeze([
  { name: '1:1 chat', members: 2, conversations: 1000, messagesPerDay: 10 },
  { name: 'group of 5', members: 5, conversations: 150, messagesPerDay: 20 },
  { name: 'group of 10', members: 10, conversations: 80, messagesPerDay: 25 },
  { name: 'group of 20', members: 20, conversations: 40, messagesPerDay: 30 },
  { name: 'group of 50', members: 50, conversations: 15, messagesPerDay: 40 },
  { name: 'group of 100', members: 100, conversations: 6, messagesPerDay: 60 },
  { name: 'group of 200', members: 200, conversations: 2.5, messagesPerDay: 100 },
  { name: 'group of 500', members: 500, conversations: 1, messagesPerDay: 150 },
  { name: 'group of 1,000', members: 1000, conversations: 0.4, messagesPerDay: 180 },
  { name: 'group of 2,000', members: 2000, conversations: 0.12, messagesPerDay: 250 },
  { name: 'group of 5,000', members: 5000, conversations: 0.04, messagesPerDay: 300 },
  { name: 'group of 10,000', members: 10000, conversations: 0.015, messagesPerDay: 400 },
]);

/** The source design's setting: reads:writes 10:1, a user in 10 conversations, TableStore limits. */
export const ARTICLE_SCENARIO: CapacityParameters = Object.freeze({
  classes: DEFAULT_CLASSES,
  readsPerWrite: 10,
  conversationsPerUser: 10,
  batchRows: DEFAULT_BATCH_ROWS,
  scanPageRows: DEFAULT_SCAN_PAGE_ROWS,
  senderInbox: true,
});

function check(params: CapacityParameters): void {
  if (!Array.isArray(params.classes) || params.classes.length === 0) throw new TypeError('Expected `classes` to be a non-empty array');
  for (const [i, c] of params.classes.entries()) {
    if (!Number.isInteger(c.members) || c.members < 2) throw new RangeError(`Expected \`classes[${i}].members\` to be an integer from 2 and up`);
    if (!(c.conversations >= 0) || !(c.messagesPerDay >= 0)) throw new RangeError(`Expected \`classes[${i}]\` weights to be non-negative numbers`);
  }
  if (!params.classes.some((c) => c.conversations * c.messagesPerDay > 0)) throw new RangeError('Expected some class to send messages');
  if (!(params.readsPerWrite >= 0)) throw new RangeError('Expected `readsPerWrite` to be a non-negative number');
  if (!(params.conversationsPerUser >= 1)) throw new RangeError('Expected `conversationsPerUser` to be at least 1');
  for (const key of ['batchRows', 'scanPageRows'] as const) {
    const value = params[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new RangeError(`Expected \`${key}\` to be an integer from 1 and up`);
  }
}

/** Inboxes one message of a conversation of `members` members goes to. */
export function inboxesPerMessage(members: number, senderInbox = true): number {
  return senderInbox ? members : members - 1;
}

/** Write requests of one write-diffused message: 1 store write + ceil(inboxes / batchRows). */
export function writeRequestsForMessage(inboxes: number, batchRows = DEFAULT_BATCH_ROWS): number {
  return 1 + Math.ceil(inboxes / batchRows);
}

/** Read requests to read `rows` new rows of one timeline: at least one (an empty read still costs one). */
export function pagesFor(rows: number, scanPageRows = DEFAULT_SCAN_PAGE_ROWS): number {
  return Math.max(1, Math.ceil(rows / scanPageRows));
}

/** Shares, per-user counts and rates implied by a distribution. */
export function distributionFacts(params: CapacityParameters): DistributionFacts {
  check(params);
  const senderInbox = params.senderInbox ?? true;
  const messages = params.classes.map((c) => c.conversations * c.messagesPerDay);
  const memberships = params.classes.map((c) => c.conversations * c.members);
  const totalMessages = sum(messages);
  const totalMemberships = sum(memberships);
  const messageShare = messages.map((m) => m / totalMessages);
  const membershipShare = memberships.map((m) => m / totalMemberships);
  const conversationsPerUser = membershipShare.map((s) => s * params.conversationsPerUser);
  const meanAudience = sum(params.classes.map((c, k) => messageShare[k]! * inboxesPerMessage(c.members, senderInbox)));
  const meanMembership = sum(params.classes.map((c, k) => membershipShare[k]! * c.members));
  // Users = memberships / conversationsPerUser, so messages per user per day is
  // totalMessages × conversationsPerUser / totalMemberships (in the weights' units, which cancel).
  const messagesSentPerUserPerDay = (totalMessages * params.conversationsPerUser) / totalMemberships;
  const syncsPerUserPerDay = params.readsPerWrite * messagesSentPerUserPerDay;
  const messagesReceivedPerUserPerDay = sum(params.classes.map((c, k) => conversationsPerUser[k]! * c.messagesPerDay));
  return { messageShare, membershipShare, conversationsPerUser, meanAudience, meanMembership, syncsPerUserPerDay, messagesReceivedPerUserPerDay };
}

/** Whether messages of a conversation of `members` members are written to every member's inbox. */
export function isWriteDiffused(members: number, diffusion: Diffusion): boolean {
  if (diffusion.mode === 'write') return true;
  if (diffusion.mode === 'read') return false;
  // The library's Messenger: above the threshold, read diffusion.
  return members <= diffusion.threshold;
}

/** Cost per message sent under one diffusion mode. */
export function costPerMessage(params: CapacityParameters, diffusion: Diffusion): MessageCost {
  const facts = distributionFacts(params);
  const batchRows = params.batchRows ?? DEFAULT_BATCH_ROWS;
  const page = params.scanPageRows ?? DEFAULT_SCAN_PAGE_ROWS;
  const senderInbox = params.senderInbox ?? true;
  if (diffusion.mode === 'hybrid' && !(diffusion.threshold >= 0)) throw new RangeError('Expected `threshold` to be a non-negative number');

  let syncRows = 0;
  let fanOutRequests = 0;
  let rowsRead = 0;
  // What one user's sync reads: rows that reach the inbox, and timelines read directly.
  let inboxRowsPerDay = 0;
  let directReadsPerSync = 0;
  const syncsPerDay = facts.syncsPerUserPerDay;
  params.classes.forEach((c, k) => {
    const share = facts.messageShare[k]!;
    const inboxes = inboxesPerMessage(c.members, senderInbox);
    const userConversations = facts.conversationsPerUser[k]!;
    if (isWriteDiffused(c.members, diffusion)) {
      syncRows += share * inboxes;
      fanOutRequests += share * Math.ceil(inboxes / batchRows);
      rowsRead += share * inboxes;
      inboxRowsPerDay += userConversations * c.messagesPerDay * (inboxes / c.members);
    } else {
      // Every member reads the conversation's timeline itself, the sender's devices included.
      rowsRead += share * c.members;
      const rowsPerRead = syncsPerDay > 0 ? c.messagesPerDay / syncsPerDay : 0;
      directReadsPerSync += userConversations * pagesFor(rowsPerRead, page);
    }
  });
  // Pure read diffusion has no inbox to read.
  const inboxReads = diffusion.mode === 'read' ? 0 : pagesFor(syncsPerDay > 0 ? inboxRowsPerDay / syncsPerDay : 0, page);
  const readRequestsPerSync = inboxReads + directReadsPerSync;
  const readRequests = params.readsPerWrite * readRequestsPerSync;
  const writeRequests = 1 + fanOutRequests;
  const rowsWritten = 1 + syncRows;
  return {
    storeRows: 1,
    syncRows,
    rowsWritten,
    writeRequests,
    writeRequestsUnbatched: rowsWritten,
    readRequestsPerSync,
    readRequests,
    rowsRead,
    requests: writeRequests + readRequests,
    capacityUnits: rowsWritten + readRequests,
  };
}

/** One point of a threshold sweep. */
export interface SweepPoint {
  readonly threshold: number;
  readonly cost: MessageCost;
  /** Large groups (members > threshold) an average user belongs to. */
  readonly largeGroupsPerUser: number;
}

/** Hybrid cost at each threshold. */
export function sweepThresholds(params: CapacityParameters, thresholds: readonly number[]): SweepPoint[] {
  const facts = distributionFacts(params);
  return thresholds.map((threshold) => ({
    threshold,
    cost: costPerMessage(params, { mode: 'hybrid', threshold }),
    largeGroupsPerUser: sum(params.classes.map((c, k) => (c.members > threshold ? facts.conversationsPerUser[k]! : 0))),
  }));
}

/** `perDecade` log-spaced values from `from` to `to`, both included. */
export function logSpace(from: number, to: number, perDecade: number): number[] {
  if (!(from > 0 && to > from && perDecade >= 1)) throw new RangeError('Expected 0 < from < to and perDecade >= 1');
  const steps = Math.round(Math.log10(to / from) * perDecade);
  return Array.from({ length: steps + 1 }, (_, i) => (i === steps ? to : from * 10 ** (i / perDecade)));
}

/**
 * The busiest a conversation may be and still cost fewer capacity units under write diffusion
 * than under read diffusion, in messages per day. Per message, write diffusion adds one row per
 * member; read diffusion adds one read per member per sync instead, whatever the traffic. So a
 * conversation should be write-diffused when it sends fewer messages per day than a member syncs,
 * whatever its size: this is `syncsPerUserPerDay`. (Fan-out latency and inbox storage, which grow
 * with size, are the other reasons to read-diffuse large groups; see docs/capacity.md.)
 */
export function breakEvenMessagesPerDay(params: CapacityParameters): number {
  return distributionFacts(params).syncsPerUserPerDay;
}

/** The threshold, among `thresholds`, with the fewest capacity units per message. */
export function cheapestThreshold(params: CapacityParameters, thresholds: readonly number[]): SweepPoint {
  const sweep = sweepThresholds(params, thresholds);
  return sweep.reduce((best, point) => (point.cost.capacityUnits < best.cost.capacityUnits - 1e-9 ? point : best));
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
