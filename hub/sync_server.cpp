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

// At most this many pushes decided in one write transaction (Hub::push_window).
constexpr std::size_t kPushWindow = 256;

// Frames joined into one write by the session's writer, up to about this many bytes.
constexpr std::size_t kJoinedWrite = 64 * 1024;

net::AckOutcome ack_outcome(PushResult result) {
  return static_cast<net::AckOutcome>(static_cast<int>(result));
}

// Sends the frames at the front of `queue` and takes them off: one large frame alone (its size
// checked against the limit), or the small ones that come first joined in one write of about
// kJoinedWrite bytes at most.
asio::awaitable<Status> send_front(net::Connection& connection, std::deque<std::string>& queue) {
  if (queue.front().size() > net::kCoalescedWrite) {
    std::string frame = std::move(queue.front());
    queue.pop_front();
    co_return co_await connection.write_frame(frame);
  }
  std::string frames;
  while (!queue.empty() && queue.front().size() <= net::kCoalescedWrite &&
         frames.size() + queue.front().size() <= kJoinedWrite) {
    net::append_frame(frames, queue.front());
    queue.pop_front();
  }
  co_return co_await connection.write_frames(frames);
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
  std::optional<Result<Changeset>> changeset;  // decoded for the first partner that reads it
  for (const auto& session : sessions_) {
    if (session.get() == &origin || !session->live) continue;
    if (session->scopes.count(outcome.scope) == 0) continue;  // refresh_scopes() adds new ones
    if (Hub::is_partner(session->establishment)) {
      if (!changeset) {
        auto envelope = decode_signed(bytes);
        changeset =
            envelope ? decode_changeset_body(envelope->body) : Result<Changeset>(envelope.error());
      }
      if (!*changeset || !hub_.may_read(session->establishment, changeset->value())) continue;
    }
    enqueue(*session, net::deliver_message({{outcome.hub_seq, outcome.scope, bytes}}));
  }
}

void SyncServer::send_scope(Session& session, const std::string& scope, std::uint64_t after) {
  std::vector<net::Delivered> batch;
  bool partner = Hub::is_partner(session.establishment);
  // A node's own changesets are not sent back to it, unless it purged the scope and now reads
  // it again from the start: its outbox holds them without their effect.
  auto purged = after == 0 ? hub_.has_purged(session.key, scope) : Result<bool>(false);
  if (!purged) log::error("hub", "purges of " + scope + ": " + purged.error().message);
  bool own_too = purged && purged.value();
  Status scanned =
      hub_.scan_scope(scope, after, [&](std::uint64_t hub_seq, const std::string& bytes) {
        auto sender = decode_signed(bytes);
        if (!own_too && sender && sender->origin == session.key) return true;
        if (partner) {
          auto changeset =
              sender ? decode_changeset_body(sender->body) : Result<Changeset>(sender.error());
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
      Status sent = co_await send_front(*connection, session->queue);
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

asio::awaitable<std::optional<net::SyncMessage>> SyncServer::read_message(
    net::Connection& connection, Session& session) {
  auto frame = co_await connection.read_frame_started_within(frame_timeout_);
  if (!frame) {
    // A peer gone is ordinary; a frame refused unread (oversized) is the peer's fault. A
    // session the writer ended was logged there.
    if (session.closed) co_return std::nullopt;
    if (frame.error().code == ErrorCode::network) {
      log::info("hub", "session with " + session.peer + " ended: " + frame.error().message);
    } else {
      log::warning("hub", "refused a frame from " + session.peer + ": " + frame.error().message);
    }
    co_return std::nullopt;
  }
  auto message = net::read_sync_message(frame.value(), "a frame from " + session.peer);
  if (!message) {
    log::warning("hub", "refused a frame from " + session.peer + ": " + message.error().message);
    co_return std::nullopt;
  }
  co_return std::move(message.value());
}

asio::awaitable<bool> SyncServer::gather_pushes(net::Connection& connection, Session& session,
                                                std::vector<std::string>& window,
                                                std::optional<net::SyncMessage>& held) {
  while (window.size() < kPushWindow && connection.input_waiting()) {
    auto next = co_await read_message(connection, session);
    if (!next) co_return false;
    if (next->kind != net::SyncMessage::Kind::push) {
      held = std::move(next);
      co_return true;
    }
    window.push_back(std::move(next->changeset));
  }
  co_return true;
}

bool SyncServer::accept_pushes(Session& session, const std::vector<std::string>& window) {
  auto outcomes = hub_.push_window(session.key, session.establishment, window);
  if (!outcomes) {
    log::error("hub", "push from " + session.peer + ": " + outcomes.error().message);
    return false;
  }
  for (std::size_t i = 0; i < outcomes->size(); ++i) {
    const PushOutcome& outcome = outcomes.value()[i];
    enqueue(session, net::ack_message(outcome.seq, ack_outcome(outcome.result), outcome.reason,
                                      outcome.expected, outcome.hub_seq));
    if (outcome.result == PushResult::accepted) forward(session, outcome, window[i]);
    if (outcome.close) {
      log::warning("hub", "closing " + session.peer + ": " + outcome.reason);
      return false;
    }
  }
  return true;
}

asio::awaitable<bool> SyncServer::handle(std::shared_ptr<Session> session,
                                         const net::SyncMessage& message) {
  if (message.kind == net::SyncMessage::Kind::pull) {
    Status sent = co_await send_backlog(session, message.cursors);
    co_return sent.ok();
  }
  if (message.kind == net::SyncMessage::Kind::dropped) {
    Status recorded = hub_.record_purge(session->key, message.scope);
    log::info("hub", session->peer + " confirmed the purge of " + message.scope);
    if (!recorded) log::error("hub", "purge confirmation: " + recorded.error().message);
    co_return true;
  }
  log::warning("hub", "unexpected message from " + session->peer);
  co_return false;
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

  std::optional<net::SyncMessage> held;  // read while a window of pushes was gathered
  while (!session->closed) {
    std::optional<net::SyncMessage> message;
    if (held) {
      message = std::move(held);
      held.reset();
    } else {
      message = co_await read_message(connection, *session);
    }
    if (!message) break;
    if (message->kind == net::SyncMessage::Kind::push) {
      std::vector<std::string> window;
      window.push_back(std::move(message->changeset));
      bool more = co_await gather_pushes(connection, *session, window, held);
      if (!accept_pushes(*session, window) || !more) break;
      continue;
    }
    bool handled = co_await handle(session, message.value());
    if (!handled) break;
  }
  session->closed = true;
  session->wake.cancel();
  sessions_.erase(session);
}

}  // namespace tutelle::hub
