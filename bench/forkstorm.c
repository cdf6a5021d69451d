// Copied verbatim from the team's shared/tools so the live benchmark is self-contained: the fork/exec storm.
// Fork storm: NPROC workers each fork+_exit children as fast as possible for SECONDS.
// Usage: forkstorm SECONDS [WORKERS] [exec]   (exec: child execs /bin/true)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
 double secs=argc>1?atof(argv[1]):3; int w=argc>2?atoi(argv[2]):2; int ex=argc>3&&!strcmp(argv[3],"exec");
 long *cnt=mmap(0,4096,PROT_READ|PROT_WRITE,MAP_SHARED|MAP_ANONYMOUS,-1,0);
 double end=now()+secs;
 for(int i=0;i<w;i++) if(fork()==0){ long n=0; while(now()<end){ pid_t p=fork(); if(p==0){ if(ex) execl("/bin/true","true",(char*)0); _exit(0);} if(p>0){waitpid(p,0,0);n++;} } cnt[i]=n; _exit(0);} 
 for(int i=0;i<w;i++) wait(0);
 long t=0; for(int i=0;i<w;i++) t+=cnt[i];
 printf("forks=%ld per_s=%.0f\n",t,t/secs); return 0;}
