/* The floor: the least a cn_proc listener can do. Subscribes to everything, counts events,
 * ENOBUFS and per-CPU sequence gaps, prints once at the end. Usage: minimal_reader SECONDS [RCVBUF]. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 5;
  int rcvbuf = argc > 2 ? atoi(argv[2]) : 8 << 20;
  int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (s < 0) { perror("socket"); return 1; }
  if (rcvbuf > 0) setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
  if (bind(s, (struct sockaddr*)&sa, sizeof sa) < 0) { perror("bind"); return 1; }
  char req[NLMSG_SPACE(sizeof(struct cn_msg) + 4)] = {0};
  struct nlmsghdr* nh = (struct nlmsghdr*)req;
  struct cn_msg* cn = NLMSG_DATA(nh);
  nh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + 4);
  nh->nlmsg_type = NLMSG_DONE;
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = 4;
  uint32_t listen_op = PROC_CN_MCAST_LISTEN;
  memcpy(cn->data, &listen_op, 4);
  if (send(s, req, nh->nlmsg_len, 0) < 0) { perror("send"); return 1; }

  static uint32_t last_seq[4096];
  static char seen[4096];
  unsigned long long events = 0, enobufs = 0, gaps = 0, acks = 0;
  char buf[8192];
  double end = now() + seconds;
  while (now() < end) {
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = recv(s, buf, sizeof buf, 0);
    if (r < 0) {
      if (errno == ENOBUFS) { enobufs++; continue; }
      if (errno == EINTR) continue;
      perror("recv");
      break;
    }
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, (unsigned)r); h = NLMSG_NEXT(h, r)) {
      struct cn_msg* c = NLMSG_DATA(h);
      uint32_t what, cpu;
      memcpy(&what, c->data, 4);
      memcpy(&cpu, c->data + 4, 4);
      events++;
      if (what == 0) { acks++; continue; }
      if (cpu < 4096) {
        if (seen[cpu] && c->seq - last_seq[cpu] - 1 < (1u << 31)) gaps += c->seq - last_seq[cpu] - 1;
        seen[cpu] = 1;
        last_seq[cpu] = c->seq;
      }
    }
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  printf("events=%llu enobufs=%llu lost=%llu cpu_seconds=%.3f\n", events, enobufs, gaps > acks ? gaps - acks : 0, cpu);
  return 0;
}
