var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var params = {
  tableName: 'sampleTable',
  condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
  primaryKey: [{ gid: Long.fromNumber(9) }, { uid: Long.fromNumber(90) }],
};

client.deleteRow(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
});
