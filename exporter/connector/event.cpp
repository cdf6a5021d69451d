#include "connector/event.h"

#include <algorithm>
#include <cstring>
#include <sys/wait.h>

namespace procevents::connector {

std::string_view event_type_name(EventType type) noexcept {
  const auto index = static_cast<std::size_t>(type);
  return index < kEventTypeCount ? kEventTypes[index].name : "unknown";
}

std::uint32_t event_bit_for_name(std::string_view name) noexcept {
  if (name == kNonzeroExitName) return event_bits::kNonzeroExit;
  for (const EventTypeRow& row : kEventTypes) {
    if (row.listed != kNotListed && row.name == name) return row.bit;
  }
  return 0;
}

std::string event_names_list(std::string_view separator) {
  std::string names;
  for (int position = 0;; ++position) {
    const auto row = std::find_if(kEventTypes.begin(), kEventTypes.end(),
                                  [&](const EventTypeRow& r) { return r.listed == position; });
    if (row == kEventTypes.end()) break;
    names.append(row->name).append(separator);
  }
  return names.append(kNonzeroExitName);
}

ExitStatus decode_exit_status(std::uint32_t raw) noexcept {
  const int status = static_cast<int>(raw);
  ExitStatus out;
  if (WIFSIGNALED(status)) {
    out.kind = ExitStatus::Kind::kSignaled;
    out.signal = WTERMSIG(status);
    out.core_dumped = WCOREDUMP(status);
  } else {
    // WIFEXITED, and the odd encodings a task's exit_code never has on exit (stopped/continued),
    // which we read as plain exit statuses rather than inventing a third outcome.
    out.kind = ExitStatus::Kind::kExited;
    out.code = WEXITSTATUS(status);
  }
  return out;
}

namespace {
constexpr std::string_view kSignalNames[] = {
    "SIG0",     "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",   "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",  "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",  "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",   "SIGPWR",  "SIGSYS",
    // 32 and 33 are reserved by glibc's threading; SIGRTMIN as seen by applications is 34.
    "SIG32",    "SIG33",   "SIGRTMIN",  "SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGRTMIN+4",
    "SIGRTMIN+5", "SIGRTMIN+6", "SIGRTMIN+7", "SIGRTMIN+8", "SIGRTMIN+9", "SIGRTMIN+10",
    "SIGRTMIN+11", "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14",
    "SIGRTMAX-13", "SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9", "SIGRTMAX-8",
    "SIGRTMAX-7", "SIGRTMAX-6", "SIGRTMAX-5", "SIGRTMAX-4", "SIGRTMAX-3", "SIGRTMAX-2",
    "SIGRTMAX-1", "SIGRTMAX",
};
static_assert(std::size(kSignalNames) == 65);
}  // namespace

std::string_view signal_name(int signal) noexcept {
  if (signal <= 0 || signal >= static_cast<int>(std::size(kSignalNames))) return "UNKNOWN";
  return kSignalNames[signal];
}

std::string_view Event::comm_view() const noexcept {
  return {comm.data(), strnlen(comm.data(), comm.size())};
}

}  // namespace procevents::connector
