var TableStore = require('tablestore');
var Long = TableStore.Long;
var client = require('./client.cjs');

var now = Date.now();
var params = {
  tableName: 'sampleTable',
  primaryKey: [{ gid: Long.fromNumber(20013) }, { uid: Long.fromNumber(20013) }],
  timeRange: {
    startTime: String(now - 3600 * 1000),
    endTime: String(now + 3600 * 1000),
  },
};

client.getRow(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data.row.attributes.length, 'cells in the last hour');
});
