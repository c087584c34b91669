// The client the samples share, like the SDK's samples/client.js: here it reaches the emulator
// whose endpoint and credentials the test passes in the environment.
var TableStore = require('tablestore');

module.exports = new TableStore.Client({
  accessKeyId: process.env.TABLESTORE_ACCESS_KEY_ID,
  secretAccessKey: process.env.TABLESTORE_ACCESS_KEY_SECRET,
  endpoint: process.env.TABLESTORE_ENDPOINT,
  instancename: process.env.TABLESTORE_INSTANCE,
  maxRetries: 0,
});
