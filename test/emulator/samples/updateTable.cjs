var client = require('./client.cjs');

var params = {
  tableName: 'sampleTable',
  tableOptions: {
    maxVersions: 5,
  },
};

client.updateTable(params, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
});
