var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var params = {
  tables: [
    {
      tableName: 'sampleTable',
      primaryKey: [
        [{ gid: Long.fromNumber(20013) }, { uid: Long.fromNumber(20013) }],
        [{ gid: Long.fromNumber(8) }, { uid: Long.fromNumber(81) }],
      ],
      maxVersions: 1,
      startColumn: 'col2',
      endColumn: 'col4',
    },
  ],
};

client.batchGetRow(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data.tables[0].length === 2 ? 'two rows' : 'unexpected', JSON.stringify(data.tables[0].map(function (r) { return r.isOk; })));
});
