// Starts an S3-compatible server for the tests on 127.0.0.1 and prints "listening <port>"
// once it accepts requests. Arguments: <data directory> <bucket> [port, default any free one].
// Credentials are s3rver's fixed pair: access key S3RVER, secret S3RVER. S3RVER_VERBOSE=1
// logs every request.
'use strict';
const S3rver = require('@20minutes/s3rver');

const [directory, bucket, port] = process.argv.slice(2);
if (!directory || !bucket) {
  console.error('usage: node s3_server.js <directory> <bucket> [port]');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port || 0),
  directory,
  silent: !process.env.S3RVER_VERBOSE,
  configureBuckets: [{ name: bucket }],
});
server.run().then(
  (address) => console.log(`listening ${address.port}`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
