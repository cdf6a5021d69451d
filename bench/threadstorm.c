// Copied verbatim from the team's shared/tools so the live benchmark is self-contained: the thread storm.
// Thread storm: WORKERS processes each create+join threads for SECONDS (each thread = fork+exit event).
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static void* f(void*a){return a;}
int main(int argc,char**argv){
 double secs=argc>1?atof(argv[1]):3; int w=argc>2?atoi(argv[2]):2;
 long *cnt=mmap(0,4096,PROT_READ|PROT_WRITE,MAP_SHARED|MAP_ANONYMOUS,-1,0);
 double end=now()+secs;
 for(int i=0;i<w;i++) if(fork()==0){ long n=0; while(now()<end){ pthread_t t; if(pthread_create(&t,0,f,0)==0){pthread_join(t,0);n++;} } cnt[i]=n; _exit(0);}
 for(int i=0;i<w;i++) wait(0);
 long t=0; for(int i=0;i<w;i++) t+=cnt[i];
 printf("threads=%ld per_s=%.0f\n",t,t/secs); return 0;}
