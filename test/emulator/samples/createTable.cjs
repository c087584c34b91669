// CreateTable with a stream specification, as in the SDK's samples.
var client = require('./client.cjs');

var params = {
  tableMeta: {
    tableName: 'sampleTable',
    primaryKey: [
      { name: 'gid', type: 'INTEGER' },
      { name: 'uid', type: 'INTEGER' },
    ],
  },
  reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
  tableOptions: {
    timeToLive: -1, // seconds; -1 keeps data forever
    maxVersions: 3,
  },
  streamSpecification: {
    enableStream: true,
    expirationTime: 24, // hours
  },
};

client.createTable(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
});
