// Copied verbatim from the team's shared/tools so the live benchmark is self-contained: the connector floor.
// Minimal proc-connector reader: the floor any exporter is measured against.
// Usage: cnproc-floor SECONDS [RCVBUF_BYTES]
// Prints: events received by type, ENOBUFS overruns, events/s.
#define _GNU_SOURCE
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <poll.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
 double secs=argc>1?atof(argv[1]):5; int rb=argc>2?atoi(argv[2]):0;
 int s=socket(PF_NETLINK,SOCK_DGRAM|SOCK_CLOEXEC,NETLINK_CONNECTOR); if(s<0){perror("socket");return 1;}
 if(rb) setsockopt(s,SOL_SOCKET,SO_RCVBUFFORCE,&rb,sizeof rb);
 struct sockaddr_nl sa={0}; sa.nl_family=AF_NETLINK; sa.nl_groups=CN_IDX_PROC;
 if(bind(s,(void*)&sa,sizeof sa)<0){perror("bind");return 1;}
 char buf[256]={0}; struct nlmsghdr*nh=(void*)buf; struct cn_msg*cn=NLMSG_DATA(nh);
 nh->nlmsg_len=NLMSG_LENGTH(sizeof(*cn)+4); nh->nlmsg_type=NLMSG_DONE; nh->nlmsg_pid=getpid();
 cn->id.idx=CN_IDX_PROC; cn->id.val=CN_VAL_PROC; cn->len=4; *(int*)cn->data=PROC_CN_MCAST_LISTEN;
 if(send(s,nh,nh->nlmsg_len,0)<0){perror("send");return 1;}
 long cnt[16]={0}, total=0, enobufs=0; double t0=now(), end=t0+secs;
 char rbuf[65536];
 while(now()<end){
  struct pollfd p={s,POLLIN,0}; int pr=poll(&p,1,100); if(pr<=0) continue;
  int r=recv(s,rbuf,sizeof rbuf,0);
  if(r<0){ if(errno==ENOBUFS){enobufs++;continue;} if(errno==EINTR)continue; perror("recv"); break;}
  for(struct nlmsghdr*h=(void*)rbuf; NLMSG_OK(h,(unsigned)r); h=NLMSG_NEXT(h,r)){
   struct cn_msg*c=NLMSG_DATA(h); struct proc_event*ev=(void*)c->data; unsigned w=ev->what;
   int k= w==0?0: w==PROC_EVENT_EXIT?15: (__builtin_ctz(w)+1); if(k>15)k=15; cnt[k]++; total++; }
 }
 double el=now()-t0;
 printf("none=%ld fork=%ld exec=%ld uid=%ld gid=%ld sid=%ld ptrace=%ld comm=%ld coredump=%ld exit=%ld\n",cnt[0],cnt[1],cnt[2],cnt[3],cnt[4],cnt[8]+cnt[7],cnt[9],cnt[10],cnt[31&31]+cnt[11],cnt[15]);
 printf("total=%ld enobufs=%ld seconds=%.2f events_per_s=%.0f\n",total,enobufs,el,total/el);
 return 0;}
