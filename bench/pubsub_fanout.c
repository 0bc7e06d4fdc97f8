/* Pub/Sub fan-out load: N subscribers of one channel, one publisher, messages/s delivered.
 *
 *   pubsub_fanout -p PORT [-s SUBSCRIBERS] [-m MESSAGES] [-d BYTES] [-w WINDOW] [-c CHANNEL]
 *
 * Opens SUBSCRIBERS connections that SUBSCRIBE to CHANNEL, checks PUBSUB NUMSUB, then
 * publishes MESSAGES messages of BYTES bytes from one connection with up to WINDOW PUBLISHes
 * in flight, while one epoll loop reads every subscriber. All messages have the same size,
 * so a subscriber's message count is its bytes received divided by one message's size.
 * Time runs from the first PUBLISH sent until every subscriber has received every message
 * (or -t seconds pass). Prints one line:
 *
 *   subscribers=1000 messages=2000 bytes=64 delivered=2000000 seconds=0.812
 *   deliveries_per_sec=2463054 publishes_per_sec=2463
 *
 * Plain sockets and epoll; only 127.0.0.1. Exits non-zero on any error or a short delivery.
 * Build: gcc -O2 -Wall -Wextra -Werror -o pubsub_fanout bench/pubsub_fanout.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

static void die(const char *what) {
  fprintf(stderr, "pubsub_fanout: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write");
    buf += n;
    len -= (size_t)n;
  }
}

static void read_exactly(int fd, char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = read(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("read");
    buf += n;
    len -= (size_t)n;
  }
}

/* Appends one RESP bulk string. */
static size_t put_bulk(char *out, const char *s, size_t len) {
  size_t n = (size_t)sprintf(out, "$%zu\r\n", len);
  memcpy(out + n, s, len);
  memcpy(out + n + len, "\r\n", 2);
  return n + len + 2;
}

int main(int argc, char **argv) {
  int port = 0, subscribers = 1000, messages = 2000, window = 64, timeout = 120;
  size_t bytes = 64;
  const char *channel = "fanout";
  int opt;
  while ((opt = getopt(argc, argv, "p:s:m:d:w:c:t:")) != -1) {
    switch (opt) {
      case 'p': port = atoi(optarg); break;
      case 's': subscribers = atoi(optarg); break;
      case 'm': messages = atoi(optarg); break;
      case 'd': bytes = (size_t)atol(optarg); break;
      case 'w': window = atoi(optarg); break;
      case 'c': channel = optarg; break;
      case 't': timeout = atoi(optarg); break;
      default:
        fprintf(stderr, "usage: %s -p PORT [-s subs] [-m msgs] [-d bytes] [-w window] "
                        "[-c channel] [-t seconds]\n", argv[0]);
        return 2;
    }
  }
  if (port <= 0 || subscribers <= 0 || messages <= 0 || window <= 0) {
    fprintf(stderr, "pubsub_fanout: bad arguments\n");
    return 2;
  }
  size_t chlen = strlen(channel);

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)subscribers + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  /* Requests and the exact bytes a subscriber gets per message. */
  char *payload = malloc(bytes + 1);
  char *publish = malloc(bytes + chlen + 128);
  char *expect = malloc(bytes + chlen + 128);
  char *subscribe = malloc(chlen + 64);
  if (!payload || !publish || !expect || !subscribe) die("malloc");
  memset(payload, 'x', bytes);
  size_t publish_len = (size_t)sprintf(publish, "*3\r\n");
  publish_len += put_bulk(publish + publish_len, "PUBLISH", 7);
  publish_len += put_bulk(publish + publish_len, channel, chlen);
  publish_len += put_bulk(publish + publish_len, payload, bytes);
  size_t message_len = (size_t)sprintf(expect, "*3\r\n");
  message_len += put_bulk(expect + message_len, "message", 7);
  message_len += put_bulk(expect + message_len, channel, chlen);
  message_len += put_bulk(expect + message_len, payload, bytes);
  size_t subscribe_len = (size_t)sprintf(subscribe, "*2\r\n");
  subscribe_len += put_bulk(subscribe + subscribe_len, "SUBSCRIBE", 9);
  subscribe_len += put_bulk(subscribe + subscribe_len, channel, chlen);
  char confirm[256];
  int confirm_len = snprintf(confirm, sizeof(confirm),
                             "*3\r\n$9\r\nsubscribe\r\n$%zu\r\n%s\r\n:1\r\n", chlen, channel);

  /* Subscribe everyone (the confirmations are read one connection at a time). */
  int *fds = calloc((size_t)subscribers, sizeof(int));
  uint64_t *got = calloc((size_t)subscribers, sizeof(uint64_t));
  if (!fds || !got) die("calloc");
  for (int i = 0; i < subscribers; ++i) {
    fds[i] = connect_to(port);
    write_all(fds[i], subscribe, subscribe_len);
  }
  for (int i = 0; i < subscribers; ++i) {
    char buf[256];
    read_exactly(fds[i], buf, (size_t)confirm_len);
    if (memcmp(buf, confirm, (size_t)confirm_len) != 0) {
      errno = 0;
      die("unexpected SUBSCRIBE reply");
    }
  }
  int pub = connect_to(port);
  {
    char req[256], buf[256];
    size_t n = (size_t)sprintf(req, "*3\r\n");
    n += put_bulk(req + n, "PUBSUB", 6);
    n += put_bulk(req + n, "NUMSUB", 6);
    n += put_bulk(req + n, channel, chlen);
    write_all(pub, req, n);
    char want[256];
    int want_len = snprintf(want, sizeof(want), "*2\r\n$%zu\r\n%s\r\n:%d\r\n", chlen, channel,
                            subscribers);
    read_exactly(pub, buf, (size_t)want_len);
    if (memcmp(buf, want, (size_t)want_len) != 0) {
      fprintf(stderr, "pubsub_fanout: PUBSUB NUMSUB replied %.*s\n", want_len, buf);
      errno = 0;
      die("PUBSUB NUMSUB does not count every subscriber");
    }
  }

  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < subscribers; ++i) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) die("epoll_ctl");
  }
  struct epoll_event pev = {.events = EPOLLIN, .data.u32 = (uint32_t)subscribers};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, pub, &pev) != 0) die("epoll_ctl");

  const uint64_t want_bytes = (uint64_t)messages * message_len;
  const uint64_t total_want = (uint64_t)subscribers * want_bytes;
  uint64_t total_got = 0;
  int sent = 0, replied = 0;
  char reply_buf[65536];
  size_t reply_have = 0;
  static char buf[1 << 16];
  double start = now_sec(), publish_end = 0;
  char *batch = malloc(publish_len * (size_t)window);
  if (!batch) die("malloc");

  while (total_got < total_want || replied < messages) {
    /* Keep up to `window` PUBLISHes in flight. */
    if (sent < messages && sent - replied < window) {
      int k = window - (sent - replied);
      if (k > messages - sent) k = messages - sent;
      for (int i = 0; i < k; ++i) memcpy(batch + (size_t)i * publish_len, publish, publish_len);
      write_all(pub, batch, publish_len * (size_t)k);
      sent += k;
    }
    struct epoll_event events[256];
    int n = epoll_wait(ep, events, 256, 1000);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    if (now_sec() - start > timeout) break;
    for (int e = 0; e < n; ++e) {
      uint32_t id = events[e].data.u32;
      if (id == (uint32_t)subscribers) {
        ssize_t r = read(pub, reply_buf + reply_have, sizeof(reply_buf) - reply_have);
        if (r <= 0) die("publisher read");
        reply_have += (size_t)r;
        /* Replies are ":<n>\r\n"; count complete lines. */
        size_t pos = 0;
        for (;;) {
          char *nl = memchr(reply_buf + pos, '\n', reply_have - pos);
          if (!nl) break;
          if (reply_buf[pos] != ':') {
            errno = 0;
            die("unexpected PUBLISH reply");
          }
          pos = (size_t)(nl - reply_buf) + 1;
          if (++replied == messages) publish_end = now_sec();
        }
        memmove(reply_buf, reply_buf + pos, reply_have - pos);
        reply_have -= pos;
        continue;
      }
      ssize_t r = read(fds[id], buf, sizeof(buf));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) die("subscriber read (disconnected?)");
      got[id] += (uint64_t)r;
      total_got += (uint64_t)r;
    }
  }
  double elapsed = now_sec() - start;
  uint64_t delivered = 0;
  for (int i = 0; i < subscribers; ++i) delivered += got[i] / message_len;
  if (publish_end == 0) publish_end = now_sec();
  printf("subscribers=%d messages=%d bytes=%zu delivered=%llu seconds=%.3f "
         "deliveries_per_sec=%.0f publishes_per_sec=%.0f\n",
         subscribers, messages, bytes, (unsigned long long)delivered, elapsed,
         (double)delivered / elapsed, (double)replied / (publish_end - start));
  for (int i = 0; i < subscribers; ++i) close(fds[i]);
  close(pub);
  close(ep);
  if (delivered != (uint64_t)subscribers * (uint64_t)messages) {
    fprintf(stderr, "pubsub_fanout: short delivery: %llu of %llu\n",
            (unsigned long long)delivered,
            (unsigned long long)subscribers * (unsigned long long)messages);
    return 1;
  }
  return 0;
}
