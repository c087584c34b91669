var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var params = {
  tableName: 'sampleTable',
  primaryKey: [{ gid: Long.fromNumber(20013) }, { uid: Long.fromNumber(20013) }],
  updateOfAttributeColumns: [{ PUT: [{ col1: 'test6' }] }],
};

// Expect the row to exist, with name = john and addr = china.
var condition = new TableStore.CompositeCondition(TableStore.LogicalOperator.AND);
condition.addSubCondition(new TableStore.SingleColumnCondition('name', 'john', TableStore.ComparatorType.EQUAL));
condition.addSubCondition(new TableStore.SingleColumnCondition('addr', 'china', TableStore.ComparatorType.EQUAL));
params.condition = new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, condition);

client.updateRow(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
  // The same update with a condition that does not hold is refused.
  params.condition = new TableStore.Condition(
    TableStore.RowExistenceExpectation.EXPECT_EXIST,
    new TableStore.SingleColumnCondition('name', 'jack', TableStore.ComparatorType.EQUAL),
  );
  client.updateRow(params, function (err2) {
    console.log(err2 && String(err2.message).indexOf('OTSConditionCheckFail') >= 0 ? 'success: condition check failed as expected' : 'error: the update should have failed');
  });
});
