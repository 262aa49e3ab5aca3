#pragma once
// The hub's sync server: one session per node connection on one io_context (see the "Sync"
// section of protocol/wire.capnp). Accepted changesets are forwarded at once to every live
// session whose establishment reads their scope.
//
// Not thread-safe: run the io_context on one thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "hub/hub.hpp"
#include "net/connection.hpp"
#include "net/sync_messages.hpp"

namespace tutelle::hub {

class SyncServer {
 public:
  SyncServer(boost::asio::io_context& io, Hub& hub) : io_(io), hub_(hub) {}

  // Binds and starts accepting; port 0 picks a free one (see port()).
  Status start(const boost::asio::ip::tcp::endpoint& endpoint);
  std::uint16_t port() const;
  // Stops accepting and ends every session.
  void stop();
  // How long a peer may take to send the rest of a frame it has begun; one that stalls inside
  // a frame loses its session. Waiting between frames has no limit (a live node is idle).
  void set_frame_timeout(std::chrono::milliseconds timeout) { frame_timeout_ = timeout; }

 private:
  struct Session {
    explicit Session(boost::asio::any_io_executor executor) : wake(executor) {}
    std::string establishment;
    identity::PublicKey key{};
    std::string peer;
    std::set<std::string> scopes;
    bool live = false;
    std::deque<std::string> queue;  // frames waiting for the writer
    boost::asio::steady_timer wake;
    bool closed = false;
  };

  boost::asio::awaitable<void> serve(net::Connection connection);
  boost::asio::awaitable<void> writer(std::shared_ptr<net::Connection> connection,
                                      std::shared_ptr<Session> session);
  boost::asio::awaitable<Status> send_backlog(std::shared_ptr<Session> session,
                                              const std::map<std::string, std::uint64_t>& cursors);
  // The next message from the peer; nullopt (logged) when the session ends.
  boost::asio::awaitable<std::optional<net::SyncMessage>> read_message(net::Connection& connection,
                                                                       Session& session);
  // Adds to `window` the pushes whose bytes have arrived already, up to a limit: a window is
  // decided in one transaction and answered in one write. A message of another kind ends it and
  // is left in `held`. False: the session ended while reading.
  boost::asio::awaitable<bool> gather_pushes(net::Connection& connection, Session& session,
                                             std::vector<std::string>& window,
                                             std::optional<net::SyncMessage>& held);
  // Decides the window, queues its acks and forwards what was accepted. False: end the session.
  bool accept_pushes(Session& session, const std::vector<std::string>& window);
  // A pull, a purge confirmation; anything else is refused. False: end the session.
  boost::asio::awaitable<bool> handle(std::shared_ptr<Session> session,
                                      const net::SyncMessage& message);
  void enqueue(Session& session, std::string frame);
  // Brings each live session's scopes up to date: history for a scope it may now read, a drop
  // for one it no longer may. Runs on a timer, since shares and tutelles change while serving.
  void refresh_scopes();
  boost::asio::awaitable<void> refresher();
  void send_scope(Session& session, const std::string& scope, std::uint64_t after);
  void forward(const Session& origin, const PushOutcome& outcome, const std::string& bytes);

  boost::asio::io_context& io_;
  Hub& hub_;
  std::chrono::milliseconds frame_timeout_{std::chrono::seconds(30)};
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::set<std::shared_ptr<Session>> sessions_;
};

}  // namespace tutelle::hub
