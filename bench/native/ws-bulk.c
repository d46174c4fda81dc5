/*
 * ws-bulk: bulk WebSocket receivers for the chat fan-out benchmark, in C (epoll), standing in for viewers on other
 * machines. Same clients as ../src/fanout/raw-ws.ts (own HTTP Upgrade, frame headers walked, only the first bytes of
 * a payload looked at, pings answered), but the receive loop does not block in epoll_wait per frame: it sleeps
 * `poll_ms` between non-blocking epoll rounds and reads whatever arrived meanwhile. On loopback the kernel charges
 * the receiving side of every send (TCP receive path, waking the reader) to the *sending* process; a sleeping-then-
 * polling reader is never woken by a send, which removes the wake-up part of that charge, as for a server whose
 * viewers are across a network. The latency samplers stay full clients (ws / socket.io-client) in Node.
 *
 * Usage: ws-bulk DIALECT HOST PORT CHANNEL COUNT OFFSET CONCURRENCY POLL_MS TIMEOUT_MS RETRIES ADDR[,ADDR...]
 *   DIALECT  eventcast (GET /ws, `subscribe` on `welcome`, ready on `subscribed`, counts `{"type":"event"` frames)
 *            | engineio (GET /socket.io/?EIO=4&transport=websocket, `40` on open, ready on `40…`, counts `42…`,
 *            answers `2` with `3`)
 * Protocol on stdout (one line each): `connected READY FAILED ERRORS` once every connection is ready or has failed
 * (ERRORS: up to 5 messages joined by '|'); on stdin: `stats` → `stats DELIVERED BYTES OTHER PINGS CLOSED OPEN CPU_S`,
 * `close` (or end of input) → closes every connection and exits 0.
 * WebSocket framing: RFC 6455 §5.2 (client frames masked; a zero mask key is legal and leaves the payload as is).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

enum { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_DONE };
#define PEEK 20
#define MAX_EVENTS 1024
#define READ_BUF (256 * 1024)

typedef struct {
  int fd, state, ready, attempt, index;
  double started, retry_at;
  char hs[2048];
  int hslen;
  unsigned char hdr[160];
  int hl, want;
  uint64_t skip;
} conn_t;

static int engineio;
static const char *host, *channel;
static int port, count, offset, concurrency, poll_ms, timeout_ms, retries;
static char **addrs;
static int naddrs;
static conn_t *conns;
static int ep;
static unsigned long long delivered, delivered_bytes, other, pings, closed_after_ready;
static int ready_count, failed_count, open_count;
static char errors[5][160];
static int nerrors;
static unsigned char rbuf[READ_BUF];

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void note_error(int i, const char *msg) {
  if (nerrors < 5) snprintf(errors[nerrors++], sizeof errors[0], "#%d: %s", i, msg);
}

/* Sends a masked (zero key) client frame; payload < 126 bytes. Best effort: these frames are tiny. */
static void send_frame(conn_t *c, int opcode, const void *payload, size_t len) {
  unsigned char f[2 + 4 + 125];
  if (len > 125) len = 125;
  f[0] = 0x80 | opcode;
  f[1] = 0x80 | (unsigned char)len;
  memset(f + 2, 0, 4);
  memcpy(f + 6, payload, len);
  (void)!send(c->fd, f, 6 + len, MSG_NOSIGNAL);
}

static void mark_ready(conn_t *c) {
  if (c->ready) return;
  c->ready = 1;
  c->state = ST_OPEN;
  ready_count++;
  open_count++;
}

static void on_frame(conn_t *c, int opcode, int at, int peek, uint64_t plen) {
  unsigned char *p = c->hdr + at;
  if (opcode == 9) {
    pings++;
    send_frame(c, 0xA, p, (size_t)peek);
    return;
  }
  if (opcode == 8) {
    shutdown(c->fd, SHUT_WR);
    return;
  }
  if (opcode != 0 && opcode != 1 && opcode != 2) return;
  if (!engineio) {
    static const char ev[] = "{\"type\":\"event\"", wel[] = "{\"type\":\"welcome\"", sub[] = "{\"type\":\"subscribed\"";
    if (peek >= (int)sizeof ev - 1 && memcmp(p, ev, sizeof ev - 1) == 0) {
      delivered++;
      delivered_bytes += plen;
      return;
    }
    other++;
    if (!c->ready && peek >= (int)sizeof wel - 1 && memcmp(p, wel, sizeof wel - 1) == 0) {
      char msg[128];
      int n = snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"channel\":\"%s\"}", channel);
      send_frame(c, 1, msg, (size_t)n);
    } else if (!c->ready && peek >= (int)sizeof sub - 1 && memcmp(p, sub, sizeof sub - 1) == 0) {
      mark_ready(c);
    }
    return;
  }
  if (peek >= 2 && p[0] == '4' && p[1] == '2') {
    delivered++;
    delivered_bytes += plen;
    return;
  }
  other++;
  if (peek >= 1 && p[0] == '2' && plen == 1) {
    pings++;
    send_frame(c, 1, "3", 1);
  } else if (peek >= 1 && p[0] == '0') {
    send_frame(c, 1, "40", 2);
  } else if (!c->ready && peek >= 2 && p[0] == '4' && p[1] == '0') {
    mark_ready(c);
  }
}

/* Walks frame headers in buf[start, end) (same state machine as raw-ws.ts `feed`). */
static void feed(conn_t *c, const unsigned char *buf, int start, int end) {
  int off = start;
  while (off < end) {
    if (c->skip > 0) {
      uint64_t k = c->skip < (uint64_t)(end - off) ? c->skip : (uint64_t)(end - off);
      off += (int)k;
      c->skip -= k;
      continue;
    }
    int k = c->want - c->hl;
    if (k > end - off) k = end - off;
    memcpy(c->hdr + c->hl, buf + off, (size_t)k);
    c->hl += k;
    off += k;
    if (c->hl < c->want) return;
    int b1 = c->hdr[1] & 0x7f, masked = (c->hdr[1] & 0x80) != 0;
    int hlen = 2 + (b1 == 126 ? 2 : b1 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (c->hl < hlen) {
      c->want = hlen;
      continue;
    }
    uint64_t plen = b1 < 126 ? (uint64_t)b1 : b1 == 126 ? ((uint64_t)c->hdr[2] << 8 | c->hdr[3]) : 0;
    if (b1 == 127) for (int i = 0; i < 8; i++) plen = plen << 8 | c->hdr[2 + i];
    int opcode = c->hdr[0] & 0x0f;
    int peek = opcode >= 8 ? (plen < 125 ? (int)plen : 125) : (plen < PEEK ? (int)plen : PEEK);
    if (c->hl < hlen + peek) {
      c->want = hlen + peek;
      continue;
    }
    on_frame(c, opcode, hlen, peek, plen);
    c->skip = plen - (uint64_t)peek;
    c->hl = 0;
    c->want = 2;
  }
}

static void start_conn(conn_t *c) {
  const char *addr = addrs[(offset + c->index + c->attempt * 7) % naddrs];
  c->hl = 0;
  c->want = 2;
  c->skip = 0;
  c->hslen = 0;
  c->started = now_ms();
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in local = {.sin_family = AF_INET};
  inet_pton(AF_INET, addr, &local.sin_addr);
  if (bind(c->fd, (struct sockaddr *)&local, sizeof local) != 0) note_error(c->index, strerror(errno));
  struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &remote.sin_addr);
  c->state = ST_CONNECTING;
  struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
  if (connect(c->fd, (struct sockaddr *)&remote, sizeof remote) != 0 && errno != EINPROGRESS) note_error(c->index, strerror(errno));
}

/* A connection failed before it was ready: retry later or count it as failed. */
static void fail_conn(conn_t *c, const char *why) {
  note_error(c->index, why);
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  if (c->attempt < retries) {
    c->attempt++;
    c->state = ST_IDLE;
    c->retry_at = now_ms() + 200.0 * c->attempt;
  } else {
    c->state = ST_DONE;
    failed_count++;
  }
}

static void on_readable(conn_t *c) {
  ssize_t n = read(c->fd, rbuf, sizeof rbuf);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    if (c->ready) {
      closed_after_ready++;
      open_count--;
      epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
      close(c->fd);
      c->fd = -1;
      c->state = ST_DONE;
    } else {
      fail_conn(c, n == 0 ? "closed before ready" : strerror(errno));
    }
    return;
  }
  if (n < 0) return;
  int off = 0;
  if (c->state == ST_HANDSHAKE) {
    int take = (int)n < (int)sizeof c->hs - 1 - c->hslen ? (int)n : (int)sizeof c->hs - 1 - c->hslen;
    memcpy(c->hs + c->hslen, rbuf, (size_t)take);
    c->hslen += take;
    c->hs[c->hslen] = 0;
    char *end = strstr(c->hs, "\r\n\r\n");
    if (!end) {
      if (c->hslen >= (int)sizeof c->hs - 1) fail_conn(c, "handshake too long");
      return;
    }
    if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) {
      char *eol = strstr(c->hs, "\r\n");
      if (eol) *eol = 0;
      fail_conn(c, c->hs);
      return;
    }
    int header_bytes = (int)(end - c->hs) + 4;
    off = take - (c->hslen - header_bytes); /* bytes of this read after the header block */
    c->state = ST_OPEN;
  }
  feed(c, rbuf, off, (int)n);
}

static void on_writable(conn_t *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    fail_conn(c, strerror(err));
    return;
  }
  char req[512];
  const char *path = engineio ? "/socket.io/?EIO=4&transport=websocket" : "/ws";
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: ZXZlbnRjYXN0LWJ1bGstMQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   path, host, port);
  (void)!send(c->fd, req, (size_t)n, MSG_NOSIGNAL);
  c->state = ST_HANDSHAKE;
  struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void handle_events(struct epoll_event *evs, int n) {
  for (int i = 0; i < n; i++) {
    conn_t *c = evs[i].data.ptr;
    if (c == NULL || c->fd < 0) continue;
    if (c->state == ST_CONNECTING) {
      if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(c);
    } else {
      on_readable(c);
    }
  }
}

static double cpu_seconds(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

/* Handles complete lines from stdin; returns 0 when asked to close (or on end of input). */
static int read_commands(void) {
  static char line[256];
  static int len;
  char buf[256];
  ssize_t n = read(0, buf, sizeof buf);
  if (n == 0) return 0;
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] != '\n') {
      if (len < (int)sizeof line - 1) line[len++] = buf[i];
      continue;
    }
    line[len] = 0;
    len = 0;
    if (strcmp(line, "stats") == 0) {
      printf("stats %llu %llu %llu %llu %llu %d %.3f\n", delivered, delivered_bytes, other, pings, closed_after_ready, open_count, cpu_seconds());
      fflush(stdout);
    } else if (strcmp(line, "close") == 0) {
      return 0;
    }
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 12) {
    fprintf(stderr, "usage: ws-bulk DIALECT HOST PORT CHANNEL COUNT OFFSET CONCURRENCY POLL_MS TIMEOUT_MS RETRIES ADDRS\n");
    return 2;
  }
  engineio = strcmp(argv[1], "engineio") == 0;
  host = argv[2];
  port = atoi(argv[3]);
  channel = argv[4];
  count = atoi(argv[5]);
  offset = atoi(argv[6]);
  concurrency = atoi(argv[7]) > 0 ? atoi(argv[7]) : 1;
  poll_ms = atoi(argv[8]);
  timeout_ms = atoi(argv[9]);
  retries = atoi(argv[10]);
  naddrs = 1;
  for (char *p = argv[11]; *p; p++) naddrs += *p == ',';
  addrs = calloc((size_t)naddrs, sizeof *addrs);
  int k = 0;
  for (char *tok = strtok(argv[11], ","); tok; tok = strtok(NULL, ",")) addrs[k++] = tok;
  naddrs = k > 0 ? k : 1;
  if (k == 0) addrs[0] = "127.0.0.1";
  if (strlen(channel) > 64) {
    fprintf(stderr, "ws-bulk: channel too long\n");
    return 2;
  }
  conns = calloc((size_t)(count > 0 ? count : 1), sizeof *conns);
  ep = epoll_create1(EPOLL_CLOEXEC);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event evs[MAX_EVENTS];

  /* Connect phase: at most `concurrency` handshakes in flight. */
  int next = 0;
  for (int i = 0; i < count; i++) conns[i] = (conn_t){.fd = -1, .state = ST_IDLE, .index = i, .retry_at = -1};
  while (ready_count + failed_count < count) {
    int inflight = 0;
    double t = now_ms();
    for (int i = 0; i < next; i++) {
      conn_t *c = &conns[i];
      if (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE || (c->state == ST_OPEN && !c->ready)) {
        if (t - c->started > timeout_ms) fail_conn(c, "timeout");
        else inflight++;
      }
    }
    for (int i = 0; i < next && inflight < concurrency; i++) {
      if (conns[i].state == ST_IDLE && conns[i].retry_at >= 0 && conns[i].retry_at <= t) {
        start_conn(&conns[i]);
        inflight++;
      }
    }
    while (next < count && inflight < concurrency) {
      start_conn(&conns[next++]);
      inflight++;
    }
    int n = epoll_wait(ep, evs, MAX_EVENTS, 20);
    if (n > 0) handle_events(evs, n);
  }
  printf("connected %d %d ", ready_count, failed_count);
  for (int i = 0; i < nerrors; i++) printf("%s%s", i ? "|" : "", errors[i]);
  printf("\n");
  fflush(stdout);

  /* Receive phase: non-blocking epoll rounds, sleeping poll_ms between them. */
  struct timespec nap = {.tv_sec = poll_ms / 1000, .tv_nsec = (long)(poll_ms % 1000) * 1000000L};
  for (;;) {
    if (!read_commands()) break;
    int n;
    do {
      n = epoll_wait(ep, evs, MAX_EVENTS, 0);
      if (n > 0) handle_events(evs, n);
    } while (n == MAX_EVENTS);
    if (poll_ms > 0) nanosleep(&nap, NULL);
    else {
      n = epoll_wait(ep, evs, MAX_EVENTS, 50);
      if (n > 0) handle_events(evs, n);
    }
  }
  for (int i = 0; i < count; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  return 0;
}
