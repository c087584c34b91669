var TableStore = require('tablestore');
var client = require('./client.cjs');

var tableName = 'autoIncTable';

client.createTable(
  {
    tableMeta: {
      tableName: tableName,
      primaryKey: [
        { name: 'pk1', type: 'STRING' },
        { name: 'pk2', type: 'INTEGER', option: 'AUTO_INCREMENT' },
      ],
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1 },
  },
  function (err) {
    if (err) {
      console.log('error:', err);
      return;
    }
    client.putRow(
      {
        tableName: tableName,
        condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
        primaryKey: [{ pk1: 'pk1' }, { pk2: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ col1: 'col1val' }],
        returnContent: { returnType: TableStore.ReturnType.Primarykey },
      },
      function (err2, data) {
        if (err2) {
          console.log('error:', err2);
          return;
        }
        console.log('success:', 'generated pk2', data.row.primaryKey[1].value.toString());
      },
    );
  },
);
