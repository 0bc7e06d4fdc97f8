"""Python (redis-py) worker of the end-to-end queue test; the twin of worker.js, with the same
command line and log format (see worker.js):

    python3 py_worker.py ROLE PORT NAME LOG [FIRST LAST]
"""

from __future__ import annotations

import sys
import time

import redis

BATCH = 200


class Log:
    def __init__(self, path: str):
        self.f = open(path, "a", encoding="utf-8")
        self.lines: list[str] = []

    def emit(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= 256:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.f.write("\n".join(self.lines) + "\n")
            self.f.flush()
            self.lines.clear()


def now() -> str:
    return str(time.monotonic_ns())


def connect(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, socket_connect_timeout=2,
                       decode_responses=True, retry_on_timeout=False)


def produce(r: redis.Redis, kind: str, name: str, first: int, last: int, log: Log) -> None:
    attempt = 0
    for start in range(first, last + 1, BATCH):
        todo = list(range(start, min(start + BATCH - 1, last) + 1))
        while todo:
            attempt += 1
            items = [f"{m}:{name}:{attempt}" for m in todo]
            for it in items:
                log.emit(f"T {it}")
            log.flush()
            pipe = r.pipeline(transaction=False)
            for m, it in zip(todo, items):
                if kind == "stream":
                    pipe.xadd("jobs", {"msg": str(m), "item": it})
                else:
                    pipe.lpush("queue", it)
            try:
                results = pipe.execute(raise_on_error=False)
            except redis.RedisError:
                time.sleep(0.05)
                continue  # unknown outcome: send the whole batch again, as new items
            failed = []
            for m, it, res in zip(todo, items, results):
                if isinstance(res, Exception):
                    failed.append(m)
                elif kind == "stream":
                    log.emit(f"S {m} {res}")
                else:
                    log.emit(f"L {m} {it}")
            log.flush()
            todo = failed


def stopped(r: redis.Redis) -> bool:
    try:
        return r.exists("e2e:stop") == 1
    except redis.RedisError:
        return False


def consume_stream(r: redis.Redis, name: str, log: Log) -> None:
    history = True
    last_claim = time.monotonic()
    while True:
        try:
            if history:
                res = r.xreadgroup("g", name, {"jobs": "0"}, count=200)
                entries = res[0][1] if res else []
                if not entries:
                    history = False
            elif time.monotonic() - last_claim > 2:
                last_claim = time.monotonic()
                res = r.xautoclaim("jobs", "g", name, 10000, "0", count=200)
                entries = [e for e in res[1] if e[0] is not None]
            else:
                res = r.xreadgroup("g", name, {"jobs": ">"}, count=200, block=300)
                entries = res[0][1] if res else []
            if not entries:
                if not history and stopped(r):
                    return
                continue
            for entry_id, fields in entries:
                log.emit(f"P {entry_id} {fields['msg']} {now()}")
            log.flush()
            pipe = r.pipeline(transaction=False)
            for entry_id, _ in entries:
                pipe.xack("jobs", "g", entry_id)
            results = pipe.execute(raise_on_error=False)
            for (entry_id, _), res in zip(entries, results):
                if not isinstance(res, Exception):
                    log.emit(f"A {entry_id} {res} {now()}")
            log.flush()
            if any(isinstance(res, Exception) for res in results):
                raise redis.ConnectionError("ack failed")
        except redis.RedisError:
            log.flush()
            history = True
            time.sleep(0.05)


def consume_list(r: redis.Redis, name: str, log: Log) -> None:
    mine = f"processing:{name}"

    def handle(item: str) -> None:
        log.emit(f"P {item} {item.split(':')[0]} {now()}")
        log.flush()
        res = r.lrem(mine, 1, item)
        log.emit(f"A {item} {res} {now()}")
        log.flush()

    recover = True
    while True:
        try:
            if recover:
                for item in reversed(r.lrange(mine, 0, -1)):
                    handle(item)
                recover = False
            item = r.blmove("queue", mine, 0.3, "RIGHT", "LEFT")
            if item is None:
                if stopped(r):
                    return
                continue
            handle(item)
        except redis.RedisError:
            log.flush()
            recover = True
            time.sleep(0.05)


def main() -> None:
    role, port, name, log_path = sys.argv[1:5]
    log = Log(log_path)
    r = connect(int(port))
    if role in ("stream-producer", "list-producer"):
        produce(r, role.split("-")[0], name, int(sys.argv[5]), int(sys.argv[6]), log)
    elif role == "stream-consumer":
        consume_stream(r, name, log)
    elif role == "list-consumer":
        consume_list(r, name, log)
    else:
        raise SystemExit(f"unknown role {role}")
    log.flush()


if __name__ == "__main__":
    main()
