#include "taskstats/taskstats_source.h"

#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "common/unique_fd.h"

namespace procevents::taskstats {

namespace {

// A v16 exit message with both aggregates is under 1 KiB; leave room for growth.
constexpr std::size_t kDatagramSlotBytes = 4096;
constexpr std::size_t kControlBytes = 512;
using Clock = std::chrono::steady_clock;

/// Sends one generic netlink request with a single attribute to the kernel.
SysError send_request(int fd, std::uint16_t type, std::uint8_t command, std::uint16_t attribute,
                      std::span<const std::byte> value, std::uint32_t seq, bool want_ack) noexcept {
  std::byte message[kControlBytes]{};
  const std::size_t attribute_length = NLA_HDRLEN + value.size();
  const std::size_t length = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(attribute_length);
  if (length > sizeof message) return {EINVAL, "send(taskstats request)"};
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(length);
  header.nlmsg_type = type;
  header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | (want_ack ? NLM_F_ACK : 0));
  header.nlmsg_seq = seq;
  genlmsghdr genl{};
  genl.cmd = command;
  genl.version = 1;
  nlattr nla{};
  nla.nla_len = static_cast<std::uint16_t>(attribute_length);
  nla.nla_type = attribute;
  std::memcpy(message, &header, sizeof header);
  std::memcpy(message + NLMSG_HDRLEN, &genl, sizeof genl);
  std::memcpy(message + NLMSG_HDRLEN + GENL_HDRLEN, &nla, sizeof nla);
  std::memcpy(message + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, value.data(), value.size());
  return send_to_kernel(fd, std::span<const std::byte>(message, length), "send(taskstats request)");
}

/// What answered request `seq`: the family id (for GETFAMILY), an errno, or nothing in time.
struct Answer {
  bool arrived = false;
  int error = 0;
  std::uint16_t family_id = 0;
};

/// Reads until the answer to `seq` arrives or `timeout` passes; exit records meanwhile are dropped.
Answer wait_for_answer(int fd, std::uint32_t seq, std::chrono::milliseconds timeout) noexcept {
  const auto deadline = Clock::now() + timeout;
  alignas(nlmsghdr) std::byte buffer[kDatagramSlotBytes];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return {};
    pollfd descriptor{fd, POLLIN, 0};
    const int ready = ::poll(&descriptor, 1, poll_timeout_ms(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return {};
    sockaddr_nl source{};
    socklen_t source_length = sizeof source;
    const ssize_t received = ::recvfrom(fd, buffer, sizeof buffer, MSG_DONTWAIT,
                                        reinterpret_cast<sockaddr*>(&source), &source_length);
    if (received < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) continue;
      return {true, errno, 0};
    }
    if (source.nl_pid != 0) continue;  // only the kernel answers
    std::span<const std::byte> rest(buffer, static_cast<std::size_t>(received));
    nlmsghdr header;
    std::span<const std::byte> message;
    while (next_message(rest, header, message) == MalformedReason::kNone) {
      if (header.nlmsg_seq != seq) continue;
      if (header.nlmsg_type == NLMSG_ERROR) return {true, netlink_errno(message).value_or(EPROTO), 0};
      if (header.nlmsg_type != GENL_ID_CTRL || message.size() < NLMSG_HDRLEN + GENL_HDRLEN) continue;
      // CTRL_CMD_NEWFAMILY: find CTRL_ATTR_FAMILY_ID among the attributes.
      std::span<const std::byte> attributes = message.subspan(NLMSG_HDRLEN + GENL_HDRLEN);
      Attribute attribute;
      while (next_attribute(attributes, attribute)) {
        if (attribute.type == CTRL_ATTR_FAMILY_ID && attribute.payload.size() >= sizeof(std::uint16_t)) {
          std::uint16_t id;
          std::memcpy(&id, attribute.payload.data(), sizeof id);
          return {true, 0, id};
        }
      }
      return {true, EPROTO, 0};
    }
  }
}

std::span<const std::byte> bytes_of(const std::string& text) {
  // The kernel wants the NUL: the attribute is a C string.
  return {reinterpret_cast<const std::byte*>(text.c_str()), text.size() + 1};
}

}  // namespace

std::string read_cpu_list(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  char buffer[256];
  ssize_t length;
  do {
    length = ::read(fd.get(), buffer, sizeof buffer - 1);
  } while (length < 0 && errno == EINTR);
  if (length <= 0) return {};
  std::string text(buffer, static_cast<std::size_t>(length));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty() || text.find_first_not_of("0123456789,-") != std::string::npos) return {};
  return text;
}

struct TaskstatsSource::OpenKey {};

TaskstatsSource::TaskstatsSource(const OpenKey&, int fd, std::uint16_t family_id, std::string cpu_list,
                                 std::size_t batch)
    : fd_(fd), family_id_(family_id), cpu_list_(std::move(cpu_list)), batch_(batch, kDatagramSlotBytes) {}

TaskstatsSource::~TaskstatsSource() {
  if (fd_ < 0) return;
  // The kernel also drops a listener whose socket is gone, but only when it next tries to send.
  (void)send_request(fd_, family_id_, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK, bytes_of(cpu_list_), 0,
                     false);
  ::close(fd_);
}

std::unique_ptr<TaskstatsSource> TaskstatsSource::open(const SourceOptions& options, SysError* error) noexcept {
  const auto fail = [&](SysError failure) -> std::unique_ptr<TaskstatsSource> {
    if (error) *error = failure;
    return nullptr;
  };
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!fd) return fail({errno, "socket(AF_NETLINK, NETLINK_GENERIC)"});
  if (options.receive_buffer_bytes > 0) {
    const int size = options.receive_buffer_bytes;
    if (const SysError failed = set_receive_buffer(fd.get(), size)) return fail(failed);
  }
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return fail({errno, "bind(NETLINK_GENERIC)"});
  }

  const std::string family_name = TASKSTATS_GENL_NAME;
  if (SysError sent = send_request(fd.get(), GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
                                   bytes_of(family_name), 1, false)) {
    return fail(sent);
  }
  const Answer family = wait_for_answer(fd.get(), 1, options.ack_timeout);
  if (!family.arrived) return fail({ETIMEDOUT, "resolve generic netlink family TASKSTATS"});
  if (family.error != 0) return fail({family.error, "resolve generic netlink family TASKSTATS"});

  std::string cpu_list = options.cpu_list.empty() ? read_cpu_list(options.possible_cpus_path) : options.cpu_list;
  if (cpu_list.empty()) {
    const long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
    cpu_list = "0-" + std::to_string(cpus > 1 ? cpus - 1 : 0);
  }
  if (SysError sent = send_request(fd.get(), family.family_id, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK,
                                   bytes_of(cpu_list), 2, true)) {
    return fail(sent);
  }
  const Answer registered = wait_for_answer(fd.get(), 2, options.ack_timeout);
  if (!registered.arrived) return fail({ETIMEDOUT, "register for taskstats exit records"});
  if (registered.error != 0) return fail({registered.error, "register for taskstats exit records"});

  const std::size_t batch = options.batch_datagrams == 0 ? 1 : options.batch_datagrams;
  auto source = std::make_unique<TaskstatsSource>(OpenKey{}, fd.get(), family.family_id, std::move(cpu_list), batch);
  source->receive_buffer_bytes_ = granted_receive_buffer(fd.get());
  (void)fd.release();
  return source;
}

bool TaskstatsSource::account(const Item& item) noexcept {
  switch (item.kind) {
    case ItemKind::kRecord:
      ++(item.record.scope == RecordScope::kTask ? stats_.task_records : stats_.thread_group_records);
      return true;
    case ItemKind::kSkipped: return false;
    case ItemKind::kOverrun: ++stats_.netlink_overruns; return false;
    case ItemKind::kNetlinkError: ++stats_.netlink_errors; return false;
    case ItemKind::kMalformed: ++stats_.malformed[static_cast<std::size_t>(item.malformed)]; return false;
  }
  return false;
}

}  // namespace procevents::taskstats
