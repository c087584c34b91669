var client = require('./client.cjs');

client.describeTable({ tableName: 'sampleTable' }, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', JSON.stringify(data.streamDetails));
});
