// Children for live tests: fork a body that never returns into the test framework, reap it.
#pragma once

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

namespace procevents::testing {

/// Forks a child running `body`; the child never returns into the test framework.
inline pid_t spawn(const std::function<void()>& body) {
  // The framework catches SIGTERM, SIGSEGV, ... to report them; a child must die of them instead.
  // Block them across fork() so a signal sent right away waits until the child has reset them.
  constexpr int kCaught[] = {SIGINT, SIGILL, SIGFPE, SIGSEGV, SIGTERM, SIGABRT};
  sigset_t caught, previous;
  sigemptyset(&caught);
  for (const int signal : kCaught) sigaddset(&caught, signal);
  pthread_sigmask(SIG_BLOCK, &caught, &previous);
  const pid_t child = fork();
  if (child == 0) {
    for (const int signal : kCaught) ::signal(signal, SIG_DFL);
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    body();
    _exit(0);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  REQUIRE(child > 0);
  return child;
}

/// Waits for `pid` and returns its wait status.
inline int reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  return status;
}

/// spawn() and reap(): returns the child's pid, its wait status in `*status` when given.
inline pid_t run(const std::function<void()>& body, int* status = nullptr) {
  const pid_t child = spawn(body);
  const int s = reap(child);
  if (status) *status = s;
  return child;
}

}  // namespace procevents::testing
