#include "app/self_check.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace procevents::app {

using connector::Event;
using connector::EventType;
namespace bits = connector::event_bits;

std::string no_events_hint() {
  return "likely causes: the exporter is not in the host's network namespace (use --network host / hostNetwork: true), "
         "not in the host's PID or initial user namespace (use --pid host / hostPID: true, no user namespace), "
         "lacks CAP_NET_ADMIN, or the kernel was built without CONFIG_PROC_EVENTS";
}

std::string run_self_check(connector::ProcConnector& connector, const std::function<void(const Event&)>& deliver,
                           std::chrono::milliseconds timeout) {
  const std::uint32_t mask = connector.mask();
  const bool want_fork = mask & bits::kFork;
  const bool want_exec = mask & bits::kExec;
  const bool want_exit = (mask & bits::kExit) || (mask & bits::kNonzeroExit);
  if (!want_fork && !want_exec && !want_exit) return "";
  const int exit_status = (mask & bits::kExit) ? 0 : 1;  // only failures are delivered with nonzero_exit alone

  const pid_t child = ::fork();
  if (child < 0) return "self-check: fork failed";
  if (child == 0) {
    // Exec ourselves: the one program sure to exist, even in an image without a shell.
    if (want_exec && exit_status == 0) {
      const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (null_fd >= 0) ::dup2(null_fd, STDOUT_FILENO);
      ::execl("/proc/self/exe", "procevents_exporter", "--version", static_cast<char*>(nullptr));
    }
    ::_exit(exit_status);
  }

  bool saw_fork = !want_fork, saw_exec = !want_exec, saw_exit = !want_exit;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!(saw_fork && saw_exec && saw_exit) && std::chrono::steady_clock::now() < deadline) {
    (void)connector.receive_batch(std::chrono::milliseconds(100), [&](const Event& event) {
      deliver(event);
      if (event.tgid != child) return;
      if (event.type == EventType::kFork) saw_fork = true;
      if (event.type == EventType::kExec) saw_exec = true;
      if (event.type == EventType::kExit) saw_exit = true;
    });
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  if (saw_fork && saw_exec && saw_exit) return "";
  std::string missing;
  if (!saw_fork) missing += " fork";
  if (!saw_exec) missing += " exec";
  if (!saw_exit) missing += " exit";
  return "self-check failed: no" + missing + " event of probe child " + std::to_string(child) + " within " +
         std::to_string(timeout.count()) + " ms; " + no_events_hint() + ". Use --no-self-check to skip this check.";
}

}  // namespace procevents::app
