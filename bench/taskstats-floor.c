// Copied verbatim from the team's shared/tools so the live benchmark is self-contained: the taskstats floor.
// Minimal taskstats exit listener (the floor for exit accounting): registers for every CPU with
// TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, counts per-task exit records, ENOBUFS overruns, and prints
// the 20 most frequent comms of exited single-threaded processes.
// Usage: taskstats-floor SECONDS [verbose]
#include <linux/genetlink.h>
#include <linux/taskstats.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <poll.h>
#include <time.h>
#define GENLMSG_DATA(glh) ((void *)((char*)NLMSG_DATA(glh) + GENL_HDRLEN))
#define NLA_DATA(na) ((void *)((char *)(na) + NLA_HDRLEN))
struct msgtemplate { struct nlmsghdr n; struct genlmsghdr g; char buf[2048]; };
static int send_cmd(int sd, __u16 nlmsg_type, __u8 genl_cmd, __u16 nla_type, void *nla_data, int nla_len) {
  struct msgtemplate msg; memset(&msg,0,sizeof msg);
  msg.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN); msg.n.nlmsg_type = nlmsg_type; msg.n.nlmsg_flags = NLM_F_REQUEST;
  msg.n.nlmsg_pid = getpid(); msg.g.cmd = genl_cmd; msg.g.version = 1;
  struct nlattr *na = (struct nlattr *) GENLMSG_DATA(&msg); na->nla_type = nla_type; na->nla_len = nla_len + NLA_HDRLEN;
  memcpy(NLA_DATA(na), nla_data, nla_len); msg.n.nlmsg_len += NLMSG_ALIGN(na->nla_len);
  return send(sd, &msg, msg.n.nlmsg_len, 0) < 0 ? -1 : 0;
}
static int family_id(int sd) {
  char name[] = TASKSTATS_GENL_NAME;
  if (send_cmd(sd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, name, sizeof name) < 0) return -1;
  struct msgtemplate ans; int rep = recv(sd, &ans, sizeof ans, 0);
  if (rep < 0 || ans.n.nlmsg_type == NLMSG_ERROR) return -1;
  struct nlattr *na = (struct nlattr *) GENLMSG_DATA(&ans);
  na = (struct nlattr *) ((char *) na + NLA_ALIGN(na->nla_len));
  return na->nla_type == CTRL_ATTR_FAMILY_ID ? *(__u16 *) NLA_DATA(na) : -1;
}
struct ent { char comm[32]; long n; } tab[4096]; int ntab;
static void count(const char *c){ for(int i=0;i<ntab;i++) if(!strcmp(tab[i].comm,c)){tab[i].n++;return;} if(ntab<4096){snprintf(tab[ntab].comm,32,"%s",c);tab[ntab++].n=1;} }
int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 5;
  int sd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
  int rb = 16<<20; setsockopt(sd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK}; bind(sd, (void*)&local, sizeof local);
  int id = family_id(sd); if (id < 0) { fprintf(stderr, "no taskstats family\n"); return 1; }
  char mask[64]; snprintf(mask, sizeof mask, "0-%ld", sysconf(_SC_NPROCESSORS_CONF) - 1);
  if (send_cmd(sd, id, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, mask, strlen(mask) + 1) < 0) { perror("register"); return 1; }
  long tasks=0, tgids=0, enobufs=0; struct timespec t0; clock_gettime(CLOCK_MONOTONIC,&t0);
  static char buf[1<<16];
  for (;;) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); if ((t.tv_sec-t0.tv_sec)+(t.tv_nsec-t0.tv_nsec)/1e9 > secs) break;
    struct pollfd p={sd,POLLIN,0}; if (poll(&p,1,100)<=0) continue;
    int len = recv(sd, buf, sizeof buf, MSG_DONTWAIT);
    if (len < 0) { if (errno==ENOBUFS) enobufs++; continue; }
    for (struct nlmsghdr *nh=(void*)buf; NLMSG_OK(nh,len); nh=NLMSG_NEXT(nh,len)) {
      if (nh->nlmsg_type == NLMSG_ERROR) { struct nlmsgerr *e=NLMSG_DATA(nh); if(e->error) fprintf(stderr,"nlerr %d\n",e->error); continue; }
      int rem = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN); struct nlattr *na = GENLMSG_DATA(nh);
      while (rem > 0) {
        if (na->nla_type == TASKSTATS_TYPE_AGGR_PID || na->nla_type == TASKSTATS_TYPE_AGGR_TGID) {
          int is_tgid = na->nla_type == TASKSTATS_TYPE_AGGR_TGID;
          int aggr = na->nla_len - NLA_HDRLEN; struct nlattr *in = NLA_DATA(na);
          while (aggr > 0) {
            if (in->nla_type == TASKSTATS_TYPE_STATS) {
              struct taskstats *ts = NLA_DATA(in);
              if (is_tgid) { tgids++; } else { tasks++;
                // a task whose pid == tgid and no AGGR_TGID follows is a single-threaded process exit
                if (ts->ac_pid == ts->ac_tgid) count(ts->ac_comm); }
              if (argc > 2 && !is_tgid) printf("pid=%u tgid=%u ppid=%u comm=%s exit=%u etime_us=%llu utime_us=%llu rss_kb=%llu v=%u\n", ts->ac_pid, ts->ac_tgid, ts->ac_ppid, ts->ac_comm, ts->ac_exitcode, (unsigned long long)ts->ac_etime, (unsigned long long)ts->ac_utime, (unsigned long long)ts->hiwater_rss, ts->version);
            }
            aggr -= NLA_ALIGN(in->nla_len); in = (struct nlattr *)((char *)in + NLA_ALIGN(in->nla_len));
          }
        }
        rem -= NLA_ALIGN(na->nla_len); na = (struct nlattr *)((char *)na + NLA_ALIGN(na->nla_len));
      }
    }
  }
  printf("tasks=%ld tgid_aggr=%ld enobufs=%ld\n", tasks, tgids, enobufs);
  for (int k=0;k<20 && k<ntab;k++) { int b=k; for (int i=k+1;i<ntab;i++) if (tab[i].n>tab[b].n) b=i;
    struct ent t=tab[k]; tab[k]=tab[b]; tab[b]=t; printf("%s %ld\n", tab[k].comm, tab[k].n); }
  return 0;
}
