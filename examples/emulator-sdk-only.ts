// The source article's Timeline sample against the local emulator, using only the official SDK:
// two tables, PushTable (sync) and StoreTable (store), keyed (timeline_id, seq_id AUTO_INCREMENT);
// a group of members A..E sends five messages; each message is stored in the group's store
// timeline and fanned out to the five members' sync timelines; then members sync and roam.
// Run: npx ts-node examples/emulator-sdk-only.ts
import { startEmulator } from '../src/emulator/index.js';

// The SDK ships no types: declare the little this example uses. `require` keeps the example
// runnable by ts-node as CommonJS.
interface Int64 {
  toString(radix?: number): string;
}
interface SdkRow {
  primaryKey: { name: string; value: unknown }[];
  attributes: { columnName: string; columnValue: unknown }[];
}
interface SdkClient {
  createTable(params: object): Promise<unknown>;
  putRow(params: object): Promise<{ row: SdkRow }>;
  batchWriteRow(params: object): Promise<{ tables: { isOk: boolean; errorCode: string | null }[] }>;
  getRange(params: object): Promise<{ rows: SdkRow[]; nextStartPrimaryKey: { name: string; value: unknown }[] | null }>;
}
interface TableStoreSdk {
  Client: new (config: object) => SdkClient;
  Condition: new (expectation: number, columnCondition: null) => object;
  RowExistenceExpectation: { IGNORE: number };
  ReturnType: { Primarykey: number };
  Direction: { FORWARD: string; BACKWARD: string };
  INF_MIN: object;
  INF_MAX: object;
  PK_AUTO_INCR: object;
  Long: { fromString(s: string): Int64 };
}
const TableStore = require('tablestore') as TableStoreSdk;

const GROUP = 'group:party';
const MEMBERS = ['A', 'B', 'C', 'D', 'E'];
const IGNORE = (): object => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
const seqOf = (row: SdkRow): string => (row.primaryKey[1]?.value as Int64).toString(10);
const text = (row: SdkRow): string => {
  const a = Object.fromEntries(row.attributes.map((c) => [c.columnName, c.columnValue]));
  return `${String(a.sender)}: ${String(a.content)}`;
};

function tableParams(tableName: string, timeToLive: number): object {
  return {
    tableMeta: {
      tableName,
      primaryKey: [
        { name: 'timeline_id', type: 'STRING' },
        { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
      ],
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive, maxVersions: 1 },
  };
}

/** Reads a whole timeline range, page by page (2 rows a page, to show nextStartPrimaryKey). */
async function readTimeline(client: SdkClient, tableName: string, timelineId: string, from: unknown, backward = false): Promise<SdkRow[]> {
  const rows: SdkRow[] = [];
  let start: unknown = from;
  const end = backward ? TableStore.INF_MIN : TableStore.INF_MAX;
  for (;;) {
    const page = await client.getRange({
      tableName,
      direction: backward ? TableStore.Direction.BACKWARD : TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ timeline_id: timelineId }, { seq_id: start }],
      exclusiveEndPrimaryKey: [{ timeline_id: timelineId }, { seq_id: end }],
      limit: 2,
    });
    rows.push(...page.rows);
    if (!page.nextStartPrimaryKey) return rows;
    // The SDK returns [{name, value}] but expects [{name: value}].
    start = page.nextStartPrimaryKey[1]?.value;
  }
}

async function main(): Promise<void> {
  const emu = await startEmulator({ port: 0 });
  console.log(`emulator at ${emu.endpoint} (instance ${emu.instanceName})`);
  try {
    const client = new TableStore.Client({
      endpoint: emu.endpoint,
      instancename: emu.instanceName,
      accessKeyId: emu.accessKeyId,
      secretAccessKey: emu.accessKeySecret,
      maxRetries: 0,
    });
    await client.createTable(tableParams('PushTable', 7 * 86400)); // sync store: entries expire
    await client.createTable(tableParams('StoreTable', -1)); // message store: kept forever
    console.log('created PushTable (sync, TTL 7 days) and StoreTable (store, no TTL)');

    // Five group messages, one from each member: store first, then fan out.
    for (const [i, sender] of MEMBERS.entries()) {
      const attributeColumns = [{ sender }, { content: `message ${i + 1} from ${sender}` }];
      const stored = await client.putRow({
        tableName: 'StoreTable',
        condition: IGNORE(),
        primaryKey: [{ timeline_id: GROUP }, { seq_id: TableStore.PK_AUTO_INCR }],
        attributeColumns,
        returnContent: { returnType: TableStore.ReturnType.Primarykey },
      });
      // One batch writes the message into every member's sync timeline.
      const fanOut = await client.batchWriteRow({
        tables: [
          {
            tableName: 'PushTable',
            rows: MEMBERS.map((member) => ({
              type: 'PUT',
              condition: IGNORE(),
              primaryKey: [{ timeline_id: member }, { seq_id: TableStore.PK_AUTO_INCR }],
              attributeColumns: [...attributeColumns, { group: GROUP }],
            })),
          },
        ],
      });
      const ok = fanOut.tables.filter((r) => r.isOk).length;
      console.log(`${sender} sent message ${i + 1}: store seq ${seqOf(stored.row)}, delivered to ${ok}/${MEMBERS.length} sync timelines`);
    }

    // Sync: each member reads its own sync timeline from its checkpoint (here: the start).
    for (const member of MEMBERS) {
      const inbox = await readTimeline(client, 'PushTable', member, TableStore.INF_MIN);
      console.log(`sync ${member}: ${inbox.length} new message(s), last seq ${seqOf(inbox[inbox.length - 1] as SdkRow)}`);
    }
    // A device of C that already saw three messages resumes from its checkpoint.
    const inboxC = await readTimeline(client, 'PushTable', 'C', TableStore.INF_MIN);
    const checkpoint = (inboxC[2] as SdkRow).primaryKey[1]?.value as Int64;
    const resumed = await readTimeline(client, 'PushTable', 'C', TableStore.Long.fromString((BigInt(checkpoint.toString(10)) + 1n).toString()));
    console.log(`sync C after seq ${checkpoint.toString(10)}: ${resumed.map(text).join(' | ')}`);

    // Roaming: any device reads the group's store timeline, newest first.
    const history = await readTimeline(client, 'StoreTable', GROUP, TableStore.INF_MAX, true);
    console.log(`roaming ${GROUP} (newest first):`);
    for (const row of history) console.log(`  #${seqOf(row)} ${text(row)}`);

    const stats = emu.stats();
    console.log(`requests: ${JSON.stringify(stats.requests)}`);
    console.log(`rows: ${JSON.stringify(stats.rows)}`);
  } finally {
    await emu.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
