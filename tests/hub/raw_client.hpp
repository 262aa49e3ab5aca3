#pragma once
// A node driven by hand, for the attack tests: it speaks to a real hub over TLS 1.3 and sends
// whatever frames and bytes a test asks for, including those a correct node never sends.
//
// Every operation runs to its end on the calling thread, on an io_context of the client's
// own, and fails the test when it has not ended within kPatience. Reads give up after
// kReadTimeout, which is shorter. Not thread-safe.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "identity/keys.hpp"
#include "net/connection.hpp"
#include "net/sync_messages.hpp"

namespace tutelle::testing {

inline constexpr std::chrono::seconds kReadTimeout{10};

class RawClient {
 public:
  RawClient() = default;
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // TCP to 127.0.0.1:`port` and a TLS handshake pinning `fingerprint`; no node handshake.
  Status open(std::uint16_t port, const std::string& fingerprint);
  // The node handshake with `keys` (net::node_handshake), then the hub's head: its seq.
  // REQUIRES: open() succeeded. `keys` outlives the call.
  Result<std::uint64_t> authenticate(const identity::KeyPair& keys);

  Status send_frame(const std::string& payload);
  Result<net::SyncMessage> receive();
  // Pushes one changeset and gives the hub's answer, which should be its ack.
  Result<net::SyncMessage> push(const std::string& changeset);
  // `bytes` on the TLS stream as they are, outside any framing.
  Status send_raw(const std::string& bytes);
  // A clean end: TLS close_notify, then the socket closed.
  void close();
  // Reads once more: ok when that read ended because the hub closed the connection, else
  // what came instead (a frame, a timeout).
  Status expect_closed_by_hub();

 private:
  boost::asio::io_context io_;
  std::optional<net::Connection> connection_;
  // The stream connection_ owns, for send_raw(); valid while connection_ holds a value.
  net::TlsStream* stream_ = nullptr;
};

// The error's message, or "" when `outcome` (a Result or a Status) is ok: for INFO().
template <typename Outcome>
std::string error_text(const Outcome& outcome) {
  return outcome.ok() ? std::string() : outcome.error().message;
}

// Connects to 127.0.0.1:`port` over plain TCP, writes `bytes` and reads until the hub ends
// the connection; fails the test when it has not within kPatience. Gives what the hub sent.
Result<std::string> send_over_tcp(std::uint16_t port, const std::string& bytes);

}  // namespace tutelle::testing
