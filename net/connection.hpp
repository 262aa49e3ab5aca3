#pragma once
// A TLS 1.3 connection between a node and the hub that carries frames (frame.hpp), and the
// two ways to get one: connect() on a node, which pins the hub's certificate, and
// accept_loop() on the hub, which runs a handler coroutine per connection.
//
// Usage, on the hub:
//   auto acceptor = listen(io.get_executor(), {asio::ip::make_address("0.0.0.0"), 7450});
//   co_spawn(io, accept_loop(*acceptor, server_context,
//                            [](Connection c) -> awaitable<void> { …c.read_frame()… }),
//            detached);
//   …later, on the acceptor's executor: acceptor->close();  // accept_loop returns
// On a node, inside a coroutine:
//   Result<Connection> hub = co_await connect("hub.example.org", 7450, pinned_fingerprint);
//   Status sent = co_await hub->write_frame(payload);
//   Result<std::string> reply = co_await hub->read_frame(30s);
//   co_await hub->close();
//
// Threading: a Connection does I/O on its executor and is not thread-safe. On the hub each
// connection gets a strand of its own and its handler runs there; on a node the connection
// uses the executor of the coroutine that called connect(), which must be a strand or a
// single-threaded io_context. At most one read and one write may be in progress at once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "net/frame.hpp"
#include "protocol/result.hpp"

namespace tutelle::net {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

// Which end of the connection this is: a node is the client, the hub the server.
enum class Side { client, server };

// "192.0.2.7:7450", "[2001:db8::1]:7450".
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

class Connection {
 public:
  // Takes over `stream`, whose TLS handshake is done, and a share of the `context` it was
  // made with: the context holds the stream's verify callback, so it must outlive it.
  // `peer` names the other end in logs and errors.
  static Result<Connection> adopt(std::unique_ptr<TlsStream> stream,
                                  std::shared_ptr<boost::asio::ssl::context> context, Side side,
                                  std::string peer, std::size_t frame_limit = kDefaultFrameLimit);

  // Moving is fine between operations, never while one is in progress. A moved-from
  // Connection may only be destroyed or assigned to.
  Connection(Connection&&) = default;
  Connection& operator=(Connection&&) = default;

  // Closes the socket without a TLS close_notify; call close() first for a clean end.
  ~Connection() = default;

  // One frame's payload; see frame.hpp for the errors. The timeout variant closes the
  // connection when no whole frame arrived in time.
  boost::asio::awaitable<Result<std::string>> read_frame();
  boost::asio::awaitable<Result<std::string>> read_frame(std::chrono::milliseconds timeout);
  // One frame, waiting without limit for it to start, then for the rest at most `timeout`.
  boost::asio::awaitable<Result<std::string>> read_frame_started_within(
      std::chrono::milliseconds timeout);

  // REQUIRES: `payload` stays valid until the write completes.
  boost::asio::awaitable<Status> write_frame(std::string_view payload);
  // Several frames joined by append_frame() (frame.hpp), in one write.
  // REQUIRES: `frames` stays valid until the write completes; each frame is within the limit.
  boost::asio::awaitable<Status> write_frames(std::string_view frames);

  // Whether bytes that follow the last frame read have arrived already: in OpenSSL (decrypted
  // or not) or in the socket. A read may still wait, for the rest of a frame; and this may say
  // false while Asio holds some in its own buffer. For batching what a peer has sent, never
  // for correctness.
  bool input_waiting() const;

  // Sends TLS close_notify, waits a little for the peer's, then closes the socket. Never
  // fails: a peer already gone is what closing wanted. No other operation may be in progress.
  boost::asio::awaitable<void> close();

  // Closes the socket at once; operations in progress end with an error. For a hub shutting
  // down, or a session giving up on its peer. Call it on the connection's executor.
  void abort();

  bool is_open() const;
  Side side() const { return side_; }
  const std::string& peer() const { return peer_; }
  std::size_t frame_limit() const { return frame_limit_; }

  // The SHA-256 fingerprint of the hub's certificate on this connection: the one the hub
  // presented (client side) or presents (server side). The handshake binds to it.
  const std::string& hub_fingerprint() const { return hub_fingerprint_; }

  // "TLSv1.3, TLS_AES_256_GCM_SHA384", for logs.
  std::string tls_description() const;

  boost::asio::any_io_executor get_executor() const;

 private:
  Connection(std::unique_ptr<TlsStream> stream, std::shared_ptr<boost::asio::ssl::context> context,
             Side side, std::string peer, std::string hub_fingerprint, std::size_t frame_limit);

  // Declared before the stream, so destroyed after it.
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::unique_ptr<TlsStream> stream_;
  Side side_;
  std::string peer_;
  std::string hub_fingerprint_;
  std::size_t frame_limit_;
};

struct ConnectOptions {
  // Bounds resolving, connecting and the TLS handshake together.
  std::chrono::milliseconds timeout{10'000};
  std::size_t frame_limit = kDefaultFrameLimit;
};

// Connects to the hub at `host`:`port` and completes a TLS 1.3 handshake that accepts only
// the certificate whose fingerprint is `hub_fingerprint`. A different certificate gives
// Error refused naming the expected and the found fingerprints. Logs one line either way.
boost::asio::awaitable<Result<Connection>> connect(std::string host, std::uint16_t port,
                                                   std::string hub_fingerprint,
                                                   ConnectOptions options = {});

// An acceptor bound to `endpoint` (port 0 picks a free one: read local_endpoint()) and
// listening. Error network when the address is taken or not ours.
Result<boost::asio::ip::tcp::acceptor> listen(const boost::asio::any_io_executor& executor,
                                              const boost::asio::ip::tcp::endpoint& endpoint);

// Runs once per accepted connection, on that connection's strand, and owns the Connection.
using ConnectionHandler = std::function<boost::asio::awaitable<void>(Connection)>;

struct ServerOptions {
  // Bounds the TLS handshake of each connection; a peer that stalls is refused after it.
  std::chrono::milliseconds handshake_timeout{10'000};
  // At most this many TLS handshakes at once: a connection beyond it is closed at once (and
  // refused, logged), so that a flood of peers that stall cannot hold every descriptor for the
  // handshake timeout while enrolled nodes wait.
  std::size_t max_handshakes = 64;
  std::size_t frame_limit = kDefaultFrameLimit;
  // Told of each connection refused before the handler ran (TLS failure, timeout); optional.
  // Runs on that connection's strand.
  std::function<void(const std::string& peer, const Error& reason)> on_refused;
};

// Accepts connections on `acceptor` until it is closed, then returns ok. Each connection
// gets its own strand, TLS handshake and handler; one that fails is logged and refused while
// the others go on. Accept failures (out of file descriptors…) are logged and retried after
// a pause. Runs on the acceptor's executor; close the acceptor from there to stop.
boost::asio::awaitable<Status> accept_loop(boost::asio::ip::tcp::acceptor& acceptor,
                                           std::shared_ptr<boost::asio::ssl::context> tls,
                                           ConnectionHandler handler, ServerOptions options = {});

}  // namespace tutelle::net
