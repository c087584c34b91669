import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { failure, setup, tableParams, TIMELINE_PK, type SdkClient } from './sdk.js';

let emu: Emulator;
let client: SdkClient;

beforeAll(async () => {
  ({ emu, client } = await setup());
});
afterAll(async () => {
  await emu.close();
});

async function expectError(p: Promise<unknown>, status: number, code: string, text?: string): Promise<string> {
  const err = await failure(p);
  expect(err.code).toBe(status);
  expect(err.message).toContain(code);
  if (text !== undefined) expect(err.message).toContain(text);
  return err.message;
}

describe('CreateTable / DescribeTable / ListTable / UpdateTable / DeleteTable', () => {
  it('creates an auto-increment table and describes every required field', async () => {
    await client.createTable(tableParams('describe_me', TIMELINE_PK, { timeToLive: 7 * 86400, maxVersions: 3 }));
    // The SDK's protobuf objects render enums as names in JSON.
    const d = JSON.parse(JSON.stringify(await client.describeTable({ tableName: 'describe_me' })));
    expect(d.tableMeta.tableName).toBe('describe_me');
    expect(d.tableMeta.primaryKey).toEqual([
      { name: 'timeline_id', type: 'STRING' },
      { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
    ]);
    expect(d.tableOptions.timeToLive).toBe(7 * 86400);
    expect(d.tableOptions.maxVersions).toBe(3);
    expect(d.tableStatus).toBe('ACTIVE');
    expect(d.reservedThroughputDetails.capacityUnit).toMatchObject({ read: 0, write: 0 });
    expect(String(d.reservedThroughputDetails.lastIncreaseTime)).toMatch(/^\d+$/);
  });

  it('lists tables by name and deletes them', async () => {
    await client.createTable(tableParams('list_b', [{ name: 'k', type: 'STRING' }]));
    await client.createTable(tableParams('list_a', [{ name: 'k', type: 'BINARY' }]));
    const { tableNames } = await client.listTable({});
    expect(tableNames).toEqual([...tableNames].sort());
    expect(tableNames).toEqual(expect.arrayContaining(['list_a', 'list_b']));
    await client.deleteTable({ tableName: 'list_a' });
    expect((await client.listTable({})).tableNames).not.toContain('list_a');
    await expectError(client.deleteTable({ tableName: 'list_a' }), 404, 'OTSObjectNotExist');
    await expectError(client.describeTable({ tableName: 'list_a' }), 404, 'OTSObjectNotExist');
  });

  it('rejects a duplicate table with 409 OTSObjectAlreadyExist', async () => {
    await client.createTable(tableParams('dup', [{ name: 'k', type: 'STRING' }]));
    await expectError(client.createTable(tableParams('dup', [{ name: 'k', type: 'STRING' }])), 409, 'OTSObjectAlreadyExist');
  });

  it.each([
    ['TTL below one day', tableParams('bad_ttl', [{ name: 'k', type: 'STRING' }], { timeToLive: 3600, maxVersions: 1 }), 'time_to_live'],
    ['TTL of zero', tableParams('bad_ttl0', [{ name: 'k', type: 'STRING' }], { timeToLive: 0, maxVersions: 1 }), 'time_to_live'],
    ['TTL of 86399', tableParams('bad_ttl1', [{ name: 'k', type: 'STRING' }], { timeToLive: 86399, maxVersions: 1 }), 'time_to_live'],
    ['max versions 0', tableParams('bad_mv', [{ name: 'k', type: 'STRING' }], { timeToLive: -1, maxVersions: 0 }), 'max_versions'],
    [
      'five primary-key columns',
      tableParams('bad_pk5', ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, type: 'STRING' }))),
      'number of primary key columns',
    ],
    ['auto-increment on the partition key', tableParams('bad_ai0', [{ name: 'id', type: 'INTEGER', option: 'AUTO_INCREMENT' }]), 'partition key'],
    [
      'two auto-increment columns',
      tableParams('bad_ai2', [
        { name: 'p', type: 'STRING' },
        { name: 'a', type: 'INTEGER', option: 'AUTO_INCREMENT' },
        { name: 'b', type: 'INTEGER', option: 'AUTO_INCREMENT' },
      ]),
      'at most one auto-increment',
    ],
    [
      'auto-increment on a STRING column',
      tableParams('bad_ais', [
        { name: 'p', type: 'STRING' },
        { name: 'a', type: 'STRING', option: 'AUTO_INCREMENT' },
      ]),
      'INTEGER',
    ],
    ['duplicate primary-key names', tableParams('bad_dup', [{ name: 'p', type: 'STRING' }, { name: 'p', type: 'STRING' }]), 'Duplicated'],
    ['an invalid table name', tableParams('9bad-name', [{ name: 'p', type: 'STRING' }]), 'Invalid table name'],
    ['an invalid column name', tableParams('bad_col', [{ name: 'p-q', type: 'STRING' }]), 'Invalid column name'],
  ])('rejects %s with 400 OTSParameterInvalid', async (_what, params, text) => {
    await expectError(client.createTable(params), 400, 'OTSParameterInvalid', text);
  });

  it('accepts TTL -1 and TTL of exactly one day', async () => {
    await client.createTable(tableParams('ttl_ok', [{ name: 'k', type: 'STRING' }], { timeToLive: 86400, maxVersions: 1 }));
    await client.createTable(tableParams('ttl_forever', [{ name: 'k', type: 'STRING' }], { timeToLive: -1, maxVersions: 1 }));
  });

  it('accepts a stream specification and reports it in DescribeTable and UpdateTable', async () => {
    const params = { ...tableParams('with_stream', [{ name: 'k', type: 'STRING' }]), streamSpecification: { enableStream: true, expirationTime: 24 } };
    await client.createTable(params);
    const d = await client.describeTable({ tableName: 'with_stream' });
    expect(d.streamDetails.enableStream).toBe(true);
    expect(d.streamDetails.expirationTime).toBe(24);
    expect(d.streamDetails.streamId).toMatch(/^with_stream_\d+$/);
    expect(Number(d.streamDetails.lastEnableTime)).toBe(Date.UTC(2025, 0, 1));
    const longer = await client.updateTable({ tableName: 'with_stream', tableOptions: {}, streamSpecification: { enableStream: true, expirationTime: 168 } });
    expect(longer.streamDetails).toMatchObject({ enableStream: true, expirationTime: 168, streamId: d.streamDetails.streamId });
    const off = await client.updateTable({ tableName: 'with_stream', tableOptions: {}, streamSpecification: { enableStream: false } });
    expect(off.streamDetails.enableStream).toBe(false);
    expect((await client.describeTable({ tableName: 'with_stream' })).streamDetails.enableStream).toBe(false);
    expect((await client.describeTable({ tableName: 'describe_me' })).streamDetails.enableStream).toBe(false);
  });

  it('validates the stream expiration time', async () => {
    const spec = (expirationTime: number | undefined) => ({ ...tableParams('bad_stream', [{ name: 'k', type: 'STRING' }]), streamSpecification: { enableStream: true, expirationTime } });
    await expectError(client.createTable(spec(0)), 400, 'OTSParameterInvalid', 'expiration_time must be in range [1, 168]');
    await expectError(client.createTable(spec(169)), 400, 'OTSParameterInvalid', 'expiration_time must be in range [1, 168]');
    await expectError(client.createTable(spec(undefined)), 400, 'OTSParameterInvalid', 'expiration_time is required');
  });

  it('updates TTL and max versions, validating them', async () => {
    await client.createTable(tableParams('upd', [{ name: 'k', type: 'STRING' }]));
    const r = await client.updateTable({ tableName: 'upd', tableOptions: { timeToLive: 2 * 86400, maxVersions: 5 } });
    expect(r.tableOptions).toMatchObject({ timeToLive: 2 * 86400, maxVersions: 5 });
    expect(r.reservedThroughputDetails.capacityUnit).toMatchObject({ read: 0, write: 0 });
    const d = await client.describeTable({ tableName: 'upd' });
    expect(d.tableOptions).toMatchObject({ timeToLive: 2 * 86400, maxVersions: 5 });
    // Only the given option changes.
    await client.updateTable({ tableName: 'upd', tableOptions: { maxVersions: 2 } });
    expect((await client.describeTable({ tableName: 'upd' })).tableOptions).toMatchObject({ timeToLive: 2 * 86400, maxVersions: 2 });
    await expectError(client.updateTable({ tableName: 'upd', tableOptions: { timeToLive: 100 } }), 400, 'OTSParameterInvalid');
    await expectError(client.updateTable({ tableName: 'missing', tableOptions: { maxVersions: 1 } }), 404, 'OTSObjectNotExist');
    await client.updateTable({ tableName: 'upd', tableOptions: {}, reservedThroughput: { capacityUnit: { read: 1, write: 2 } } });
    expect((await client.describeTable({ tableName: 'upd' })).reservedThroughputDetails.capacityUnit).toMatchObject({ read: 1, write: 2 });
  });

  it('counts requests per API and rows per table', async () => {
    const s = emu.stats();
    expect(s.requests.CreateTable).toBeGreaterThan(5);
    expect(s.errors.OTSParameterInvalid).toBeGreaterThan(0);
    expect(s.rows.describe_me).toBe(0);
  });
});
