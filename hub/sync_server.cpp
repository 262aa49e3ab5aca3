#include "hub/sync_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/handshake.hpp"
#include "net/log.hpp"
#include "net/sync_messages.hpp"
#include "net/tls.hpp"

namespace tutelle::hub {

namespace asio = boost::asio;

namespace {

// Changesets per deliver frame while catching up.
constexpr std::size_t kBacklogBatch = 256;

net::AckOutcome ack_outcome(PushResult result) {
  return static_cast<net::AckOutcome>(static_cast<int>(result));
}

}  // namespace

Status SyncServer::start(const asio::ip::tcp::endpoint& endpoint) {
  auto tls = net::make_server_context(net::tls_identity_files(hub_.dir() / "tls", "hub"));
  if (!tls) return tls.error();
  auto acceptor = net::listen(io_.get_executor(), endpoint);
  if (!acceptor) return acceptor.error();
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(std::move(acceptor.value()));
  auto handler = [this](net::Connection connection) -> asio::awaitable<void> {
    return serve(std::move(connection));
  };
  asio::co_spawn(io_, net::accept_loop(*acceptor_, tls.value(), handler), asio::detached);
  log::info("hub", "sync server listening on " + net::endpoint_text(acceptor_->local_endpoint()));
  asio::co_spawn(io_, refresher(), asio::detached);
  return {};
}

std::uint16_t SyncServer::port() const {
  return acceptor_ ? acceptor_->local_endpoint().port() : 0;
}

void SyncServer::stop() {
  if (acceptor_) acceptor_->close();
  for (const auto& session : sessions_) {
    session->closed = true;
    session->wake.cancel();
  }
}

void SyncServer::enqueue(Session& session, std::string frame) {
  session.queue.push_back(std::move(frame));
  session.wake.cancel();
}

void SyncServer::forward(const Session& origin, const PushOutcome& outcome,
                         const std::string& bytes) {
  auto envelope = decode_signed(bytes);
  auto changeset =
      envelope ? decode_changeset_body(envelope->body) : Result<Changeset>(envelope.error());
  if (!changeset) return;
  for (const auto& session : sessions_) {
    if (session.get() == &origin || !session->live) continue;
    if (session->scopes.count(outcome.scope) == 0) continue;  // refresh_scopes() adds new ones
    if (Hub::is_partner(session->establishment) &&
        !hub_.may_read(session->establishment, changeset.value())) {
      continue;
    }
    enqueue(*session, net::deliver_message({{outcome.hub_seq, outcome.scope, bytes}}));
  }
}

void SyncServer::send_scope(Session& session, const std::string& scope, std::uint64_t after) {
  std::vector<net::Delivered> batch;
  bool partner = Hub::is_partner(session.establishment);
  Status scanned =
      hub_.scan_scope(scope, after, [&](std::uint64_t hub_seq, const std::string& bytes) {
        // A node's own changesets are not sent back to it.
        auto sender = decode_signed(bytes);
        if (sender && sender->origin == session.key) return true;
        if (partner) {
          auto envelope = decode_signed(bytes);
          auto changeset = envelope ? decode_changeset_body(envelope->body)
                                    : Result<Changeset>(envelope.error());
          if (!changeset || !hub_.may_read(session.establishment, changeset.value())) return true;
        }
        batch.push_back({hub_seq, scope, bytes});
        if (batch.size() >= kBacklogBatch) {
          enqueue(session, net::deliver_message(batch));
          batch.clear();
        }
        return true;
      });
  if (!scanned) log::error("hub", "backlog of " + scope + ": " + scanned.error().message);
  if (!batch.empty()) enqueue(session, net::deliver_message(batch));
}

void SyncServer::refresh_scopes() {
  for (const auto& session : sessions_) {
    if (!session->live) continue;
    std::set<std::string> now = hub_.readable_scopes(session->establishment);
    for (const auto& scope : now) {
      if (session->scopes.count(scope) > 0) continue;
      log::info("hub", session->peer + " may now read " + scope + ": sending its history");
      send_scope(*session, scope, 0);
    }
    for (const auto& scope : session->scopes) {
      if (now.count(scope) > 0) continue;
      log::info("hub", session->peer + " may no longer read " + scope + ": asking a purge");
      enqueue(*session, net::drop_message(scope));
    }
    session->scopes = std::move(now);
  }
}

asio::awaitable<void> SyncServer::refresher() {
  asio::steady_timer timer(io_);
  while (acceptor_ && acceptor_->is_open()) {
    timer.expires_after(std::chrono::milliseconds(250));
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    refresh_scopes();
  }
}

// Sends the session's queued frames in order; once the session is closed, sends what is left
// and closes the connection. Owns the connection with serve().
asio::awaitable<void> SyncServer::writer(std::shared_ptr<net::Connection> connection,
                                         std::shared_ptr<Session> session) {
  for (;;) {
    while (!session->queue.empty()) {
      std::string frame = std::move(session->queue.front());
      session->queue.pop_front();
      Status sent = co_await connection->write_frame(frame);
      if (!sent) {
        // The reader may be past its last read and never see the end: say it here.
        if (!session->closed) {
          log::info("hub", "session with " + session->peer + " ended: " + sent.error().message);
        }
        session->closed = true;
        connection->abort();
        co_return;
      }
    }
    if (session->closed) break;
    session->wake.expires_after(std::chrono::hours(24));
    boost::system::error_code ignored;
    co_await session->wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  connection->abort();
}

asio::awaitable<Status> SyncServer::send_backlog(
    std::shared_ptr<Session> session, const std::map<std::string, std::uint64_t>& cursors) {
  session->scopes = hub_.readable_scopes(session->establishment);
  for (const auto& scope : session->scopes) {
    auto known = cursors.find(scope);
    send_scope(*session, scope, known == cursors.end() ? 0 : known->second);
  }
  for (const auto& [scope, hub_seq] : cursors) {
    if (session->scopes.count(scope) > 0) continue;
    log::info("hub", session->peer + " holds " + scope + " it may no longer read: asking a purge");
    enqueue(*session, net::drop_message(scope));
  }
  auto last = hub_.last_hub_seq();
  enqueue(*session, net::caught_up_message(last ? last.value() : 0));
  session->live = true;
  co_return Status{};
}

asio::awaitable<void> SyncServer::serve(net::Connection accepted) {
  auto shared = std::make_shared<net::Connection>(std::move(accepted));
  net::Connection& connection = *shared;
  auto node = co_await net::hub_handshake(
      connection, hub_.keys().public_key,
      [this](const identity::PublicKey& key) { return hub_.enrolled(key); });
  if (!node) {
    co_await connection.close();
    co_return;
  }
  auto session = std::make_shared<Session>(connection.get_executor());
  session->establishment = node->establishment;
  session->key = node->node_key;
  session->peer = connection.peer();
  sessions_.insert(session);
  Status touched = hub_.touch(session->key);
  if (!touched)
    log::warning("hub", "last seen of " + session->peer + ": " + touched.error().message);

  auto head = hub_.head_seq(session->key);
  enqueue(*session, net::head_message(head ? head.value() : 0));
  asio::co_spawn(connection.get_executor(), writer(shared, session), asio::detached);

  while (!session->closed) {
    // TODO(robustness): no timeout inside a frame; a peer that sends a length and stalls holds
    // its session until TCP gives up. Idle time between frames is normal for a live node.
    auto frame = co_await connection.read_frame();
    if (!frame) {
      // A peer gone is ordinary; a frame refused unread (oversized) is the peer's fault. A
      // session the writer ended was logged there.
      if (session->closed) break;
      if (frame.error().code == ErrorCode::network) {
        log::info("hub", "session with " + session->peer + " ended: " + frame.error().message);
      } else {
        log::warning("hub", "refused a frame from " + session->peer + ": " + frame.error().message);
      }
      break;
    }
    auto message = net::read_sync_message(frame.value(), "a frame from " + session->peer);
    if (!message) {
      log::warning("hub", "refused a frame from " + session->peer + ": " + message.error().message);
      break;
    }
    if (message->kind == net::SyncMessage::Kind::pull) {
      Status sent = co_await send_backlog(session, message->cursors);
      if (!sent) break;
      continue;
    }
    if (message->kind == net::SyncMessage::Kind::dropped) {
      Status recorded = hub_.record_purge(session->key, message->scope);
      log::info("hub", session->peer + " confirmed the purge of " + message->scope);
      if (!recorded) log::error("hub", "purge confirmation: " + recorded.error().message);
      continue;
    }
    if (message->kind != net::SyncMessage::Kind::push) {
      log::warning("hub", "unexpected message from " + session->peer);
      break;
    }
    auto outcome = hub_.push(session->key, session->establishment, message->changeset);
    if (!outcome) {
      log::error("hub", "push from " + session->peer + ": " + outcome.error().message);
      break;
    }
    enqueue(*session, net::ack_message(outcome->seq, ack_outcome(outcome->result), outcome->reason,
                                       outcome->expected, outcome->hub_seq));
    if (outcome->result == PushResult::accepted) forward(*session, *outcome, message->changeset);
    if (outcome->close) {
      log::warning("hub", "closing " + session->peer + ": " + outcome->reason);
      break;
    }
  }
  session->closed = true;
  session->wake.cancel();
  sessions_.erase(session);
}

}  // namespace tutelle::hub
