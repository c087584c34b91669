var TableStore = require('tablestore');
var client = require('./client.cjs');

var params = {
  tableName: 'sampleTable',
  direction: TableStore.Direction.FORWARD,
  maxVersions: 10,
  inclusiveStartPrimaryKey: [{ gid: TableStore.INF_MIN }, { uid: TableStore.INF_MIN }],
  exclusiveEndPrimaryKey: [{ gid: TableStore.INF_MAX }, { uid: TableStore.INF_MAX }],
  limit: 2,
};

var resultRows = [];

var getRange = function () {
  client.getRange(params, function (err, data) {
    if (err) {
      console.log('error:', err);
      return;
    }
    resultRows = resultRows.concat(data.rows);
    // A next start key means there is more to read.
    if (data.nextStartPrimaryKey) {
      params.inclusiveStartPrimaryKey = [{ gid: data.nextStartPrimaryKey[0].value }, { uid: data.nextStartPrimaryKey[1].value }];
      getRange();
    } else {
      console.log('success:', resultRows.length, 'rows');
    }
  });
};

getRange();
