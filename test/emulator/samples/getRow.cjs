var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var params = {
  tableName: 'sampleTable',
  primaryKey: [{ gid: Long.fromNumber(20013) }, { uid: Long.fromNumber(20013) }],
};

// Sample 1: the latest version of two columns.
function getRowSample1(done) {
  params.maxVersions = 1;
  params.columnsToGet = ['col1', 'col2'];
  client.getRow(params, function (err, data) {
    if (err) {
      console.log('error:', err);
      return;
    }
    console.log('success:', data.row.attributes.length === 2 ? 'two columns' : 'unexpected', data);
    done();
  });
}

// Sample 2: a filter, name = john AND addr = china.
function getRowSample2() {
  delete params.columnsToGet;
  var condition = new TableStore.CompositeCondition(TableStore.LogicalOperator.AND);
  condition.addSubCondition(new TableStore.SingleColumnCondition('name', 'john', TableStore.ComparatorType.EQUAL));
  condition.addSubCondition(new TableStore.SingleColumnCondition('addr', 'china', TableStore.ComparatorType.EQUAL));
  params.columnFilter = condition;
  client.getRow(params, function (err, data) {
    if (err) {
      console.log('error:', err);
      return;
    }
    console.log('success:', data.row.primaryKey ? 'row matched the filter' : 'no row', data);
  });
}

getRowSample1(getRowSample2);
