var client = require('./client.cjs');

client.listTable({}, function (err, data) {
  if (err) {
    console.log('error:', err);
    return;
  }
  console.log('success:', data);
});
