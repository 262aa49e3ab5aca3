#pragma once
// The bytes TCP connections carried, as the kernel counts them for each socket (tcp_info's
// tcpi_bytes_received and tcpi_bytes_acked, read through sock_diag netlink): the TLS records
// both ways, without TCP/IP headers. /proc/PID/io cannot give them: its rchar and wchar count
// read and write calls, and Asio moves socket data with recvmsg and sendmsg.

#include <cstdint>
#include <map>
#include <utility>

#include "protocol/result.hpp"

namespace tutelle::bench {

struct TcpBytes {
  std::uint64_t received = 0;  // by the local end
  std::uint64_t sent = 0;      // by the local end, and acknowledged by the peer
};

// Follows the IPv4 connections whose local port is `port` (a server's accepted connections)
// across samples. A connection's figures stop at its last sample before it closed, so sample
// often enough.
class TcpTraffic {
 public:
  explicit TcpTraffic(std::uint16_t port) : port_(port) {}

  // Reads every such connection's counters now.
  Status sample();
  // The sum over every connection seen by sample(), each at its last sample.
  TcpBytes total() const;
  std::size_t connections() const { return seen_.size(); }

 private:
  std::uint16_t port_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, TcpBytes> seen_;  // by socket cookie
};

}  // namespace tutelle::bench
