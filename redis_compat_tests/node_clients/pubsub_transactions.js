// Drives MULTI/EXEC, WATCH, pub/sub and keyspace notifications through node-redis against
// one server and prints a JSON transcript of what the client library saw, so that
// test_pubsub_transactions.py can run it against redis-server and Keel and compare.
//
// usage: node pubsub_transactions.js <port> <2|3>    (KEEL_NODE_DEBUG=1: each step on stderr)
// Needs node-redis: `npm ci` in this directory (package-lock.json pins it).
'use strict';

const { createClient } = require('redis');

const port = Number(process.argv[2]);
const resp = Number(process.argv[3] || 2);
const transcript = [];

function note(step, value) {
  if (process.env.KEEL_NODE_DEBUG) {
    process.stderr.write(step + ' ' + JSON.stringify(value) + '\n');
  }
  transcript.push([step, value]);
}

// Error objects and typed replies as plain JSON values.
function plain(value) {
  if (value instanceof Error) return { error: value.message };
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Array.from(value, ([k, v]) => [plain(k), plain(v)]);
  if (value && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value).sort()) out[k] = plain(value[k]);
    return out;
  }
  return value === undefined ? null : value;
}

async function attempt(step, fn) {
  try {
    note(step, { ok: plain(await fn()) });
  } catch (e) {
    const out = { name: e.constructor.name, message: e.message };
    if (e.replies) out.replies = plain(e.replies);
    if (e.errorIndexes) out.errorIndexes = e.errorIndexes;
    note(step, { threw: out });
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Resolves once `n` messages arrived (or after `ms`, with what did).
function collector() {
  const got = [];
  let waiters = [];
  const listener = (...args) => {
    got.push(args.map(plain));
    waiters = waiters.filter((w) => !w());
  };
  const wait = (n, ms = 5000) =>
    new Promise((resolve) => {
      const check = () => {
        if (got.length < n) return false;
        resolve(got.splice(0, n));
        return true;
      };
      if (check()) return;
      waiters.push(check);
      setTimeout(() => resolve(got.splice(0, got.length)), ms);
    });
  return { listener, wait };
}

async function main() {
  const options = { socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP: resp };
  const a = createClient(options);
  const b = createClient(options);
  a.on('error', (e) => note('client-error-a', e.message));
  b.on('error', (e) => note('client-error-b', e.message));
  await a.connect();
  await b.connect();
  await a.flushAll();

  // ---- MULTI/EXEC
  await attempt('exec', () => a.multi().set('n', '1').incr('n').incrBy('n', 5).get('n').exec());
  await attempt('exec with a runtime error', () =>
    a.multi().set('s', 'text').incr('s').append('s', '!').get('s').exec());
  await attempt('execabort', () =>
    a.multi().set('x', '1').addCommand(['NOSUCHCOMMAND', 'arg']).get('x').exec());
  await attempt('x untouched by the aborted transaction', () => a.get('x'));
  await attempt('empty exec', () => a.multi().exec());
  await attempt('exec with typed replies', () =>
    a.multi().xAdd('st', '1-1', { f: 'v' }).xRange('st', '-', '+').lPush('l', ['1', '2'])
      .lRange('l', 0, -1).exists(['st', 'l', 'none']).type('st').del(['st', 'l']).exec());

  // ---- WATCH
  await attempt('watch', () => a.watch('w'));
  await attempt('other client writes the watched key', () => b.set('w', 'changed'));
  await attempt('exec after the watched key changed', () => a.multi().set('w', 'mine').exec());
  await attempt('w keeps the other write', () => a.get('w'));
  await attempt('watch again', () => a.watch(['w', 'w2']));
  await attempt('exec with untouched watched keys', () => a.multi().set('w', 'mine').get('w').exec());
  await attempt('unwatch', async () => {
    await a.watch('w');
    await b.set('w', 'again');
    await a.unwatch();
    return a.multi().get('w').exec();
  });

  // ---- pub/sub (a dedicated subscriber connection)
  const sub = a.duplicate();
  sub.on('error', (e) => note('client-error-sub', e.message));
  await sub.connect();
  const channel = collector();
  const pattern = collector();
  const shard = collector();
  await attempt('subscribe', () => sub.subscribe(['news', 'sport'], channel.listener));
  await attempt('psubscribe', () => sub.pSubscribe('n*', pattern.listener));
  await attempt('ssubscribe', () => sub.sSubscribe('shard', shard.listener));
  await attempt('numsub', () => b.pubSubNumSub(['news', 'sport', 'nobody']));
  await attempt('numpat', () => b.pubSubNumPat());
  await attempt('channels', async () => (await b.pubSubChannels()).sort());
  await attempt('channels matching', async () => (await b.pubSubChannels('s*')).sort());
  await attempt('shardchannels', () => b.pubSubShardChannels());
  await attempt('shardnumsub', () => b.pubSubShardNumSub(['shard', 'other']));
  await attempt('publish to channel and pattern', () => b.publish('news', 'hello'));
  await attempt('publish to channel only', () => b.publish('sport', 'goal'));
  await attempt('publish to pattern only', () => b.publish('nothing', 'x'));
  await attempt('publish to nobody', () => b.publish('other', 'y'));
  await attempt('spublish', () => b.sPublish('shard', 'z'));
  await attempt('publish with CRLF', () => b.publish('news', 'two\r\nlines'));
  note('channel messages', await channel.wait(3));
  note('pattern messages', await pattern.wait(3));
  note('shard messages', await shard.wait(1));
  await attempt('unsubscribe one', () => sub.unsubscribe('news'));
  await attempt('publish after unsubscribe', () => b.publish('news', 'late'));
  note('pattern messages after unsubscribe', await pattern.wait(1));
  await attempt('punsubscribe', () => sub.pUnsubscribe('n*'));
  await attempt('unsubscribe the rest', () => sub.unsubscribe('sport'));
  await attempt('sunsubscribe', () => sub.sUnsubscribe('shard'));
  await attempt('numsub after unsubscribing', () => b.pubSubNumSub(['news', 'sport']));
  await attempt('numpat after unsubscribing', () => b.pubSubNumPat());

  // ---- keyspace notifications
  const events = collector();
  await attempt('config set', () => b.configSet('notify-keyspace-events', 'KEA'));
  await attempt('config get', () => b.configGet('notify-keyspace-events'));
  await attempt('psubscribe keyspace', () => sub.pSubscribe('__key*@0__:*', events.listener));
  await a.set('ev1', 'v');
  await a.expire('ev1', 100);
  await a.rename('ev1', 'ev2');
  await a.lPush('evlist', 'x');
  await a.del(['ev2', 'evlist']);
  await a.multi().set('ev3', '1').incrBy('ev3', 2).exec();
  note('keyspace events', await events.wait(18));
  await attempt('config reset', () => b.configSet('notify-keyspace-events', ''));
  await sub.pUnsubscribe('__key*@0__:*');

  // ---- RESP3 only: pushes and replies on one connection
  if (resp === 3) {
    const both = collector();
    await attempt('resp3 subscribe on a working connection', () => a.subscribe('mixed', both.listener));
    await attempt('resp3 command while subscribed', () => a.get('n'));
    await attempt('resp3 publish', () => b.publish('mixed', 'm'));
    note('resp3 messages', await both.wait(1));
    await attempt('resp3 unsubscribe', () => a.unsubscribe('mixed'));
  }

  await sub.quit();
  await a.quit();
  await b.quit();
}

main()
  .then(() => {
    process.stdout.write(JSON.stringify(transcript, null, 1) + '\n');
    process.exit(0);
  })
  .catch((e) => {
    process.stdout.write(JSON.stringify(transcript, null, 1) + '\n');
    process.stderr.write(`fatal: ${e.stack || e}\n`);
    process.exit(1);
  });
