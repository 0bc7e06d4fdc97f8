// Node.js (ioredis) worker of the end-to-end queue test (test_queue_e2e.py); py_worker.py is
// its Python twin with the same command line and log format.
//
//   node worker.js ROLE PORT NAME LOG [FIRST LAST]
//   ROLE: stream-producer | list-producer   (messages FIRST..LAST)
//         stream-consumer | list-consumer   (until the key e2e:stop exists)
//
// Every event is one line of LOG (the test checks them afterwards):
//   T <item>                 producer: about to send this list element / stream message
//   S <msg> <entry-id>       producer: XADD of message <msg> acknowledged
//   L <msg> <element>        producer: LPUSH of <element> (message <msg>) acknowledged
//   P <key> <msg> <ns>       consumer: processed entry <key> (stream id or list element)
//   A <key> <result> <ns>    consumer: XACK / LREM of <key> acknowledged with <result>
// <ns> is CLOCK_MONOTONIC (shared by all processes on the machine). The server is killed
// with SIGKILL during the run: every error means "reconnect, recover, retry".
'use strict';

const fs = require('fs');
const Redis = require('ioredis');

const [role, port, name, logPath, first, last] = process.argv.slice(2);
const log = fs.openSync(logPath, 'a');
const lines = [];
function emit(line) {
  lines.push(line);
  if (lines.length >= 256) flush();
}
function flush() {
  if (lines.length) fs.writeSync(log, lines.join('\n') + '\n');
  lines.length = 0;
}
const now = () => process.hrtime.bigint().toString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const redis = new Redis({
  host: '127.0.0.1',
  port: Number(port),
  lazyConnect: false,
  // Never resend a command the dead server may or may not have run: the worker decides.
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  retryStrategy: () => 50,
});
redis.on('error', () => {});

async function ready() {
  for (;;) {
    if (redis.status === 'ready') return;
    await sleep(20);
  }
}

const BATCH = 200;

async function produce(kind) {
  let attempt = 0;
  for (let start = Number(first); start <= Number(last); ) {
    const end = Math.min(start + BATCH - 1, Number(last));
    const todo = [];
    for (let m = start; m <= end; m++) todo.push(m);
    while (todo.length) {
      await ready();
      attempt++;
      const pipe = redis.pipeline();
      const items = todo.map((m) => `${m}:${name}:${attempt}`);
      for (const it of items) emit(`T ${it}`);
      flush();
      todo.forEach((m, i) => {
        if (kind === 'stream') pipe.xadd('jobs', '*', 'msg', String(m), 'item', items[i]);
        else pipe.lpush('queue', items[i]);
      });
      let results;
      try {
        results = await pipe.exec();
      } catch (e) {
        results = todo.map(() => [e, null]);
      }
      const failed = [];
      todo.forEach((m, i) => {
        const [err, res] = results[i];
        if (err) failed.push(m);
        else if (kind === 'stream') emit(`S ${m} ${res}`);
        else emit(`L ${m} ${items[i]}`);
      });
      flush();
      todo.splice(0, todo.length, ...failed);
      if (failed.length) await sleep(50);
    }
    start = end + 1;
  }
}

async function stopped() {
  try {
    return (await redis.exists('e2e:stop')) === 1;
  } catch (e) {
    return false;
  }
}

async function consumeStream() {
  let history = true;
  let lastClaim = Date.now();
  for (;;) {
    try {
      await ready();
      let entries = [];
      if (history) {
        const r = await redis.xreadgroup('GROUP', 'g', name, 'COUNT', 200, 'STREAMS', 'jobs', '0');
        entries = r ? r[0][1] : [];
        if (!entries.length) history = false;
      } else if (Date.now() - lastClaim > 2000) {
        lastClaim = Date.now();
        const r = await redis.xautoclaim('jobs', 'g', name, 10000, '0', 'COUNT', 200);
        entries = r[1].filter((e) => e !== null);
      } else {
        const r = await redis.xreadgroup('GROUP', 'g', name, 'COUNT', 200, 'BLOCK', 300,
                                         'STREAMS', 'jobs', '>');
        entries = r ? r[0][1] : [];
      }
      if (!entries.length) {
        if (!history && (await stopped())) return;
        continue;
      }
      for (const [id, fields] of entries) {
        const msg = fields[fields.indexOf('msg') + 1];
        emit(`P ${id} ${msg} ${now()}`);
      }
      flush();
      const pipe = redis.pipeline();
      for (const [id] of entries) pipe.xack('jobs', 'g', id);
      const results = await pipe.exec();
      entries.forEach(([id], i) => {
        const [err, res] = results[i];
        if (!err) emit(`A ${id} ${res} ${now()}`);
      });
      flush();
      if (results.some(([err]) => err)) throw new Error('ack failed');
    } catch (e) {
      flush();
      history = true;
      await sleep(50);
    }
  }
}

async function consumeList() {
  const mine = `processing:${name}`;
  const handle = async (item) => {
    emit(`P ${item} ${item.split(':')[0]} ${now()}`);
    flush();
    const res = await redis.lrem(mine, 1, item);
    emit(`A ${item} ${res} ${now()}`);
    flush();
  };
  let recover = true;
  for (;;) {
    try {
      await ready();
      if (recover) {
        // Items moved to our processing list before a crash: process them again.
        const items = await redis.lrange(mine, 0, -1);
        for (const item of items.reverse()) await handle(item);
        recover = false;
      }
      const item = await redis.blmove('queue', mine, 'RIGHT', 'LEFT', 0.3);
      if (item === null) {
        if (await stopped()) return;
        continue;
      }
      await handle(item);
    } catch (e) {
      flush();
      recover = true;
      await sleep(50);
    }
  }
}

(async () => {
  if (role === 'stream-producer') await produce('stream');
  else if (role === 'list-producer') await produce('list');
  else if (role === 'stream-consumer') await consumeStream();
  else if (role === 'list-consumer') await consumeList();
  else throw new Error(`unknown role ${role}`);
  flush();
  fs.closeSync(log);
  redis.disconnect();
})().catch((e) => {
  flush();
  console.error(e);
  process.exit(1);
});
