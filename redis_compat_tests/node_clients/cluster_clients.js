// Redis Cluster clients from Node.js against a Keel cluster (redis_compat_tests/test_cluster.py):
// ioredis's Cluster and node-redis's createCluster, each started from one node's address,
// write and read keys across all slots, and a MULTI on one slot. Prints a JSON summary.
// Usage: node cluster_clients.js <port> [<port>...]
'use strict';
const IORedis = require('ioredis');
const { createCluster } = require('redis');

async function ioredisRun(ports) {
  const cluster = new IORedis.Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), {
    redisOptions: { connectTimeout: 5000 },
  });
  try {
    for (let i = 0; i < 100; i++) await cluster.set(`io:${i}`, String(i));
    const got = [];
    for (let i = 0; i < 100; i += 25) got.push(await cluster.get(`io:${i}`));
    const multi = await cluster.multi().incr('{io}n').incr('{io}n').exec();
    return { got, multi: multi.map(([err, v]) => (err ? String(err) : v)) };
  } finally {
    cluster.disconnect();
  }
}

async function nodeRedisRun(ports) {
  const cluster = createCluster({
    rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })),
  });
  cluster.on('error', () => {});
  await cluster.connect();
  try {
    for (let i = 0; i < 100; i++) await cluster.set(`nr:${i}`, String(i));
    const got = [];
    for (let i = 0; i < 100; i += 25) got.push(await cluster.get(`nr:${i}`));
    const multi = await cluster.multi().incr('{nr}n').incr('{nr}n').exec();
    return { got, multi };
  } finally {
    await cluster.quit();
  }
}

(async () => {
  const ports = process.argv.slice(2).map(Number);
  const out = { ioredis: await ioredisRun(ports), noderedis: await nodeRedisRun(ports) };
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
