#include "bench/tcp_traffic.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace tutelle::bench {

namespace {

Error netlink_error(int err, const std::string& what) {
  return make_error(ErrorCode::internal, "sock_diag: " + what + ": " + std::strerror(err));
}

// What follows a netlink message's header (NLMSG_DATA, without its C cast).
template <typename T>
const T* payload_of(const nlmsghdr* header) {
  return reinterpret_cast<const T*>(reinterpret_cast<const char*>(header) + NLMSG_HDRLEN);
}

// A netlink socket, closed when destroyed.
class Netlink {
 public:
  Netlink() : fd_(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}
  ~Netlink() {
    if (fd_ >= 0) ::close(fd_);
  }
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Asks for every IPv4 TCP socket in any state, with its tcp_info.
Status send_dump_request(int fd) {
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = AF_INET;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = ~0u;
  message.request.idiag_ext = 1u << (INET_DIAG_INFO - 1);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    return netlink_error(errno, "send the dump request");
  }
  return {};
}

// The byte counters in one socket's attributes, if it carries tcp_info.
bool read_counters(const nlmsghdr* header, const inet_diag_msg* socket_info, TcpBytes& bytes) {
  int length = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof *socket_info));
  auto* attribute = reinterpret_cast<const rtattr*>(socket_info + 1);
  for (; RTA_OK(attribute, length); attribute = RTA_NEXT(attribute, length)) {
    if (attribute->rta_type != INET_DIAG_INFO) continue;
    tcp_info info{};
    std::memcpy(&info, RTA_DATA(attribute),
                std::min<std::size_t>(RTA_PAYLOAD(attribute), sizeof info));
    bytes.received = info.tcpi_bytes_received;
    bytes.sent = info.tcpi_bytes_acked;
    return true;
  }
  return false;
}

}  // namespace

Status TcpTraffic::sample() {
  Netlink netlink;
  if (netlink.fd() < 0) return netlink_error(errno, "open a netlink socket");
  Status sent = send_dump_request(netlink.fd());
  if (!sent) return sent;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    ssize_t received = ::recv(netlink.fd(), buffer.data(), buffer.size(), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received < 0) return netlink_error(errno, "receive the dump");
    int length = static_cast<int>(received);
    for (auto* header = reinterpret_cast<const nlmsghdr*>(buffer.data()); NLMSG_OK(header, length);
         header = NLMSG_NEXT(header, length)) {
      if (header->nlmsg_type == NLMSG_DONE) return {};
      if (header->nlmsg_type == NLMSG_ERROR) {
        auto* error = payload_of<nlmsgerr>(header);
        return netlink_error(-error->error, "the kernel refused the dump");
      }
      auto* socket_info = payload_of<inet_diag_msg>(header);
      if (ntohs(socket_info->id.idiag_sport) != port_) continue;
      TcpBytes bytes;
      if (!read_counters(header, socket_info, bytes)) continue;
      auto cookie =
          std::make_pair(socket_info->id.idiag_cookie[0], socket_info->id.idiag_cookie[1]);
      TcpBytes& known = seen_[cookie];
      known.received = std::max(known.received, bytes.received);
      known.sent = std::max(known.sent, bytes.sent);
    }
  }
}

TcpBytes TcpTraffic::total() const {
  TcpBytes sum;
  for (const auto& [cookie, bytes] : seen_) {
    sum.received += bytes.received;
    sum.sent += bytes.sent;
  }
  return sum;
}

}  // namespace tutelle::bench
