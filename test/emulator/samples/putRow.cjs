var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var currentTimeStamp = Date.now();
var params = {
  tableName: 'sampleTable',
  condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
  primaryKey: [{ gid: Long.fromNumber(20013) }, { uid: Long.fromNumber(20013) }],
  attributeColumns: [
    { col1: '表格存储' },
    { col2: '2', timestamp: currentTimeStamp },
    { col3: 3.1 },
    { col4: -0.32 },
    { col5: Long.fromNumber(123456789) },
    { name: 'john' },
    { addr: 'china' },
  ],
  returnContent: { returnType: TableStore.ReturnType.Primarykey },
};

client.putRow(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
});
