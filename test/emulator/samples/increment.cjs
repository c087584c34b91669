var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var params = {
  tableName: 'sampleTable',
  condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
  primaryKey: [{ gid: Long.fromNumber(8) }, { uid: Long.fromNumber(80) }],
  updateOfAttributeColumns: [{ INCREMENT: [{ price: Long.fromNumber(10) }] }],
  returnContent: {
    returnColumns: ['price'],
    returnType: TableStore.ReturnType.AfterModify,
  },
};

client.updateRow(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data.row.attributes[0].columnValue.toNumber() === 10 ? 'price is 10' : 'unexpected', JSON.stringify(data.row.attributes));
});
