/*
 * udp-forwarder PORT SERVER_PORT...: the machine's practical ceiling for the front door's job, in C, for
 * `vmscale bench balancer`. It does what the front door does and nothing more: 4-byte requests on
 * 127.0.0.1:PORT, each to the guest server with the fewest in flight (one socket connected to each), the
 * 8-byte answer matched to the oldest request in flight to that server expecting that value (2^n mod 1021)
 * and sent to the client that asked. The same batching: recvmmsg of up to 64 datagrams per readiness,
 * sendmmsg of each server's requests and of the clients' answers once per epoll turn, answers first. No
 * timeouts, no retries, no health checks, no statistics: a ceiling, not a balancer. Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SLOTS 65536
#define MAX_SERVERS 16

struct slot {
    uint32_t expected;
    int taken;
    struct sockaddr_in client;
};

struct server {
    int fd;
    struct slot ring[SLOTS]; /* in flight, oldest at head */
    unsigned head, tail;     /* tail - head = in flight, taken ones included */
    unsigned in_flight;
    uint32_t out[BATCH];     /* requests to send this turn */
    int queued;
};

static struct server servers[MAX_SERVERS];
static int nservers;
static int front;
static uint64_t replies[BATCH];
static struct sockaddr_in reply_to[BATCH];
static int nreplies;

static uint32_t expected(uint32_t n) {
    uint64_t result = 1, base = 2;
    while (n) {
        if (n & 1) result = result * base % 1021;
        base = base * base % 1021;
        n >>= 1;
    }
    return (uint32_t) result;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void flush_replies(void) {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    if (nreplies == 0) return;
    memset(msgs, 0, sizeof(struct mmsghdr) * nreplies);
    for (int i = 0; i < nreplies; i++) {
        iov[i].iov_base = &replies[i];
        iov[i].iov_len = 8;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &reply_to[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    }
    sendmmsg(front, msgs, nreplies, MSG_DONTWAIT); /* a full buffer drops them, as the front door does */
    nreplies = 0;
}

static void flush_requests(struct server *s) {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    if (s->queued == 0) return;
    memset(msgs, 0, sizeof(struct mmsghdr) * s->queued);
    for (int i = 0; i < s->queued; i++) {
        iov[i].iov_base = &s->out[i];
        iov[i].iov_len = 4;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    sendmmsg(s->fd, msgs, s->queued, MSG_DONTWAIT);
    s->queued = 0;
}

static void from_clients(void) {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint8_t buf[BATCH][8];
    struct sockaddr_in from[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = buf[i];
        iov[i].iov_len = sizeof buf[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int got = recvmmsg(front, msgs, BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < got; i++) {
        if (msgs[i].msg_len != 4) continue; /* garbage */
        uint32_t n;
        memcpy(&n, buf[i], 4);
        n = ntohl(n);
        struct server *best = NULL;
        for (int k = 0; k < nservers; k++) {
            if (!best || servers[k].in_flight < best->in_flight) best = &servers[k];
        }
        if (best->tail - best->head == SLOTS) continue; /* no room */
        struct slot *slot = &best->ring[best->tail++ % SLOTS];
        slot->expected = expected(n);
        slot->taken = 0;
        slot->client = from[i];
        best->in_flight++;
        best->out[best->queued++] = htonl(n);
        if (best->queued == BATCH) flush_requests(best);
    }
}

static void from_server(struct server *s) {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint8_t buf[BATCH][16];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = buf[i];
        iov[i].iov_len = sizeof buf[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < got; i++) {
        if (msgs[i].msg_len != 8) continue;
        uint64_t value;
        memcpy(&value, buf[i], 8);
        value = be64toh(value);
        for (unsigned j = s->head; j != s->tail; j++) {
            struct slot *slot = &s->ring[j % SLOTS];
            if (!slot->taken && slot->expected == value) {
                slot->taken = 1;
                s->in_flight--;
                if (nreplies == BATCH) flush_replies();
                replies[nreplies] = htobe64(value);
                reply_to[nreplies++] = slot->client;
                break;
            }
        }
        while (s->head != s->tail && s->ring[s->head % SLOTS].taken) s->head++;
    }
}

int main(int argc, char **argv) {
    if (argc < 3 || argc - 2 > MAX_SERVERS) {
        fprintf(stderr, "usage: udp-forwarder PORT SERVER_PORT... (at most %d servers)\n", MAX_SERVERS);
        return 2;
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int epoll = epoll_create1(0);
    if (epoll < 0) die("epoll_create1");
    front = socket(AF_INET, SOCK_DGRAM, 0);
    address.sin_port = htons((uint16_t) atoi(argv[1]));
    if (front < 0 || bind(front, (struct sockaddr *) &address, sizeof address) < 0) die("bind");
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, front, &event) < 0) die("epoll_ctl");
    nservers = argc - 2;
    for (int k = 0; k < nservers; k++) {
        struct server *s = &servers[k];
        int size = 1 << 20;
        s->fd = socket(AF_INET, SOCK_DGRAM, 0);
        address.sin_port = htons((uint16_t) atoi(argv[k + 2]));
        if (s->fd < 0 || connect(s->fd, (struct sockaddr *) &address, sizeof address) < 0) die("connect");
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        event.data.ptr = s;
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, s->fd, &event) < 0) die("epoll_ctl");
    }
    fprintf(stderr, "udp-forwarder: 127.0.0.1:%s to %d server(s)\n", argv[1], nservers);
    struct epoll_event ready[MAX_SERVERS + 1];
    for (;;) {
        int n = epoll_wait(epoll, ready, MAX_SERVERS + 1, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (ready[i].data.ptr == NULL) from_clients();
            else from_server(ready[i].data.ptr);
        }
        flush_replies();
        for (int k = 0; k < nservers; k++) flush_requests(&servers[k]);
    }
}
