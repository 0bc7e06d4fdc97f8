/* ack_writes: acknowledged-write load for bench/replication_bench.sh.
 *
 * Each of C connections (one thread each) sends SET key value, pipelined P deep, for S
 * seconds; with -w it sends "WAIT 1 0" after every SET (Redis's closest to a write held by a
 * replica) and counts a write when its WAIT answers. Prints one line:
 *   ops=<acknowledged writes> seconds=<elapsed> p50_us=<..> p99_us=<..> errors=<n>
 * Latency is per request, from the send of its pipeline batch to its own reply.
 * Build: gcc -O2 -pthread -o ack_writes bench/ack_writes.c -lhiredis
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char* host = "127.0.0.1";
static int port = 6379, clients = 16, pipeline = 1, seconds = 10, with_wait = 0, value_size = 16;

typedef struct {
  int id;
  uint64_t ops, errors;
  uint32_t* lat; /* microseconds, one per acknowledged write */
  size_t n_lat, cap_lat;
} Worker;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void* run(void* arg) {
  Worker* w = arg;
  redisContext* c = redisConnect(host, port);
  if (c == NULL || c->err) {
    fprintf(stderr, "connect: %s\n", c ? c->errstr : "?");
    exit(1);
  }
  char* value = malloc((size_t)value_size + 1);
  memset(value, 'v', (size_t)value_size);
  value[value_size] = 0;
  double end = now_s() + seconds;
  uint64_t seq = 0;
  while (now_s() < end) {
    double sent = now_s();
    for (int i = 0; i < pipeline; ++i) {
      char key[64];
      snprintf(key, sizeof(key), "ack:%d:%llu", w->id, (unsigned long long)(seq++ % 100000));
      redisAppendCommand(c, "SET %s %s", key, value);
      if (with_wait) redisAppendCommand(c, "WAIT 1 0");
    }
    for (int i = 0; i < pipeline; ++i) {
      int ok = 1;
      for (int r = 0; r < (with_wait ? 2 : 1); ++r) {
        redisReply* reply = NULL;
        if (redisGetReply(c, (void**)&reply) != REDIS_OK) {
          fprintf(stderr, "connection lost: %s\n", c->errstr);
          exit(1);
        }
        if (reply->type == REDIS_REPLY_ERROR) ok = 0;
        if (with_wait && r == 1 && reply->type == REDIS_REPLY_INTEGER && reply->integer < 1) ok = 0;
        freeReplyObject(reply);
      }
      if (!ok) {
        ++w->errors;
        continue;
      }
      ++w->ops;
      if (w->n_lat == w->cap_lat) {
        w->cap_lat = w->cap_lat ? w->cap_lat * 2 : 4096;
        w->lat = realloc(w->lat, w->cap_lat * sizeof(uint32_t));
      }
      w->lat[w->n_lat++] = (uint32_t)((now_s() - sent) * 1e6);
    }
  }
  free(value);
  redisFree(c);
  return NULL;
}

static int cmp_u32(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  int opt;
  while ((opt = getopt(argc, argv, "h:p:c:P:s:d:w")) != -1) {
    switch (opt) {
      case 'h': host = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 'c': clients = atoi(optarg); break;
      case 'P': pipeline = atoi(optarg); break;
      case 's': seconds = atoi(optarg); break;
      case 'd': value_size = atoi(optarg); break;
      case 'w': with_wait = 1; break;
      default:
        fprintf(stderr, "usage: %s [-h host] [-p port] [-c clients] [-P pipeline] [-s seconds] [-d bytes] [-w]\n", argv[0]);
        return 2;
    }
  }
  Worker* ws = calloc((size_t)clients, sizeof(Worker));
  pthread_t* ts = calloc((size_t)clients, sizeof(pthread_t));
  double start = now_s();
  for (int i = 0; i < clients; ++i) {
    ws[i].id = i;
    pthread_create(&ts[i], NULL, run, &ws[i]);
  }
  uint64_t ops = 0, errors = 0;
  size_t n = 0;
  for (int i = 0; i < clients; ++i) {
    pthread_join(ts[i], NULL);
    ops += ws[i].ops;
    errors += ws[i].errors;
    n += ws[i].n_lat;
  }
  double elapsed = now_s() - start;
  uint32_t* all = malloc((n ? n : 1) * sizeof(uint32_t));
  size_t k = 0;
  for (int i = 0; i < clients; ++i) {
    memcpy(all + k, ws[i].lat, ws[i].n_lat * sizeof(uint32_t));
    k += ws[i].n_lat;
  }
  qsort(all, n, sizeof(uint32_t), cmp_u32);
  printf("ops=%llu seconds=%.3f p50_us=%u p99_us=%u errors=%llu\n", (unsigned long long)ops,
         elapsed, n ? all[n / 2] : 0, n ? all[(size_t)(n * 0.99)] : 0, (unsigned long long)errors);
  return 0;
}
