var client = require('./client.cjs');

client.deleteTable({ tableName: 'autoIncTable' }, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
});
