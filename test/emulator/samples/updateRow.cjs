var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var params = {
  tableName: 'sampleTable',
  condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
  primaryKey: [{ gid: Long.fromNumber(9) }, { uid: Long.fromNumber(90) }],
  updateOfAttributeColumns: [
    { PUT: [{ col4: Long.fromNumber(4) }, { col5: '5' }, { col6: Long.fromNumber(6) }] },
    { DELETE: [{ col1: Long.fromNumber(1496826473186) }] },
    { DELETE_ALL: ['col2'] },
  ],
  returnContent: { returnType: TableStore.ReturnType.Primarykey },
};

client.updateRow(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
});
