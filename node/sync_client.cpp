#include "node/sync_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <random>

#include "identity/changeset_signature.hpp"
#include "net/handshake.hpp"
#include "net/log.hpp"
#include "net/sync_messages.hpp"
#include "node/outbox_watch.hpp"
#include "store/maintenance.hpp"

namespace tutelle::node {

namespace {

namespace asio = boost::asio;

constexpr std::size_t kWindow = 256;  // pushes in flight

// How long a serving node waits for a wake-up (OutboxWatch) before it looks at its outbox anyway.
constexpr std::chrono::milliseconds kOutboxFallback{1'000};

// How long a session that ends waits for its pusher's write before it gives up on the connection.
constexpr std::chrono::seconds kPusherStop{2};

Result<std::string> meta_text(Node& node, const std::string& name) {
  auto txn = node.replica().begin_read();
  if (!txn) return txn.error();
  auto value = node.replica().meta(txn.value(), name);
  if (!value) return value.error();
  return value.value().value_or("");
}

Status set_meta(Node& node, const std::string& name, const std::string& value) {
  auto writer = node.replica().begin_write();
  if (!writer) return writer.error();
  Status set = writer->set_meta(name, value);
  if (!set) return set;
  return writer->commit();
}

// Own changesets with seq > `after`, in order, at most `limit`.
Result<std::vector<std::pair<std::uint64_t, std::string>>> outbox_after(Node& node,
                                                                        std::uint64_t after,
                                                                        std::size_t limit) {
  auto txn = node.replica().begin_read();
  if (!txn) return txn.error();
  std::vector<std::pair<std::uint64_t, std::string>> out;
  Status scanned = txn->scan_from(node.replica().table("outbox"), store::encode_u64(after + 1),
                                  [&](std::string_view key, std::string_view bytes) {
                                    out.emplace_back(store::decode_u64(key), std::string(bytes));
                                    return out.size() < limit;
                                  });
  if (!scanned) return scanned.error();
  return out;
}

Result<std::map<std::string, std::uint64_t>> cursors(Node& node) {
  auto txn = node.replica().begin_read();
  if (!txn) return txn.error();
  std::map<std::string, std::uint64_t> out;
  Status scanned = txn->scan(node.replica().table("meta"),
                             "cursor:", [&](std::string_view key, std::string_view v) {
                               out[std::string(key.substr(7))] = store::decode_u64(v);
                               return true;
                             });
  if (!scanned) return scanned.error();
  return out;
}

// Applies one deliver frame in one transaction. A changeset of our own origin is applied only
// when this replica holds it without its effect (a purged scope read again); else it is a
// duplicate.
Status apply_delivered(Node& node, const std::vector<net::Delivered>& entries,
                       SyncSummary& summary) {
  auto writer = node.replica().begin_write();
  if (!writer) return writer.error();
  for (const auto& entry : entries) {
    ++summary.received;
    auto verified = identity::verify_changeset(entry.changeset);
    if (!verified)
      return verified.error().context("delivered hub seq " + std::to_string(entry.hub_seq));
    const Changeset& changeset = verified->changeset;
    Status cursor = writer->set_meta("cursor:" + entry.scope, store::encode_u64(entry.hub_seq));
    if (!cursor) return cursor;
    bool own = changeset.origin == node.keys().public_key;
    Status valid = check_changeset(changeset);
    if (!valid) return valid.error().context("delivered seq " + std::to_string(changeset.seq));
    Status clock = node.clock().observe(changeset.hlc);
    if (!clock) return clock.error().context("delivered seq " + std::to_string(changeset.seq));
    auto applied = writer->apply(changeset, entry.changeset, verified->hash, own);
    if (!applied) return applied.error();
    if (applied.value() == store::ApplyOutcome::applied) ++summary.applied;
  }
  return writer->commit();
}

class Session {
 public:
  Session(Node& node, SyncSummary& summary) : node_(node), summary_(summary) {}

  asio::awaitable<Status> run(bool live) {
    auto connected = co_await open();
    if (!connected) co_return connected;
    Status pushed = co_await push_all();
    if (!pushed) co_return pushed;
    auto from = cursors(node_);
    if (!from) co_return from.error();
    Status sent = co_await connection_->write_frame(net::pull_message(from.value()));
    if (!sent) co_return sent;
    if (live) {
      Status started = co_await start_pusher();
      if (!started) co_return started;
    }
    Status read = co_await read_loop(live);
    stopped_ = true;
    co_await stop_pusher();
    co_await connection_->close();
    co_return read;
  }

 private:
  asio::awaitable<Status> open() {
    auto hub = meta_text(node_, "hub");
    auto fingerprint = meta_text(node_, "fingerprint");
    if (!hub || !fingerprint || hub->empty()) {
      co_return make_error(ErrorCode::invalid_argument,
                           "this node has joined no hub (run tutelle-node join)");
    }
    auto colon = hub->rfind(':');
    auto port = static_cast<std::uint16_t>(std::atoi(hub->c_str() + colon + 1));
    auto connection = co_await net::connect(hub->substr(0, colon), port, fingerprint.value());
    if (!connection) co_return connection.error();
    connection_.emplace(std::move(connection.value()));
    auto role = node_.role() == "partner" ? net::PeerRole::partner : net::PeerRole::node;
    auto identity = co_await net::node_handshake(*connection_, node_.keys(), role);
    if (!identity) co_return identity.error();
    std::string key = identity::to_hex(identity->hub_key);
    auto known = meta_text(node_, "hub_key");
    if (known && !known->empty() && known.value() != key) {
      co_return make_error(ErrorCode::refused,
                           "the hub's key changed from " + known.value() + " to " + key);
    }
    if (!known || known->empty()) {
      Status set = set_meta(node_, "hub_key", key);
      if (!set) co_return set;
    }
    auto head = co_await read();
    if (!head) co_return head.error();
    if (head->kind != net::SyncMessage::Kind::head) {
      co_return make_error(ErrorCode::corrupt, "the hub did not send its head first");
    }
    sent_ = head->seq;
    co_return Status{};
  }

  asio::awaitable<Result<net::SyncMessage>> read() {
    auto frame = co_await connection_->read_frame();
    if (!frame) co_return frame.error();
    auto message = net::read_sync_message(frame.value(), "a frame from the hub");
    if (message && message->kind == net::SyncMessage::Kind::refuse) {
      co_return make_error(ErrorCode::refused, "the hub refused: " + message->reason);
    }
    co_return message;
  }

  Status on_ack(const net::SyncMessage& ack) {
    --in_flight_;
    if (watch_) watch_->poke();  // the window has room again
    switch (ack.outcome) {
      case net::AckOutcome::accepted: ++summary_.accepted; break;
      case net::AckOutcome::duplicate: ++summary_.duplicates; break;
      case net::AckOutcome::refused: {
        ++summary_.refused;
        log::warning("node", "seq " + std::to_string(ack.seq) + " refused: " + ack.reason);
        Status rolled = store::roll_back_refused(node_.replica(), ack.seq, ack.reason);
        if (!rolled) return rolled;
        break;
      }
      case net::AckOutcome::gap: sent_ = ack.expected - 1; return {};
      case net::AckOutcome::fork:
        return make_error(ErrorCode::conflict, "the hub quarantined this node: " + ack.reason);
    }
    acked_ = ack.seq;
    // The hub's head is what counts; `pushed` only informs `status`, so it is written once the
    // window drains rather than with an fsync per ack.
    if (in_flight_ == 0) return set_meta(node_, "pushed", store::encode_u64(acked_));
    return {};
  }

  // Sends the outbox after sent_ with at most kWindow unanswered, reading the acks.
  asio::awaitable<Status> push_all() {
    for (;;) {
      Status sent = co_await push_more();
      if (!sent) co_return sent;
      if (in_flight_ == 0) co_return Status{};
      Status acked = co_await read_acks();
      if (!acked) co_return acked;
    }
  }

  // Sends in one write as much of the outbox after sent_ as the window has room for.
  asio::awaitable<Status> push_more() {
    if (in_flight_ >= kWindow) co_return Status{};
    auto batch = outbox_after(node_, sent_, kWindow - in_flight_);
    if (!batch) co_return batch.error();
    if (batch->empty()) co_return Status{};
    std::string frames;
    for (const auto& [seq, bytes] : batch.value()) {
      std::string push = net::push_message(bytes);
      if (push.size() > connection_->frame_limit()) {
        co_return make_error(ErrorCode::invalid_argument,
                             "changeset seq " + std::to_string(seq) + " takes " +
                                 std::to_string(push.size()) + " bytes, above the frame limit");
      }
      net::append_frame(frames, push);
    }
    Status sent = co_await connection_->write_frames(frames);
    if (!sent) co_return sent;
    sent_ = batch->back().first;
    in_flight_ += batch->size();
    summary_.pushed += batch->size();
    co_return Status{};
  }

  // Reads one ack, then every other one that has arrived already.
  asio::awaitable<Status> read_acks() {
    do {
      auto ack = co_await read();
      if (!ack) co_return ack.error();
      if (ack->kind != net::SyncMessage::Kind::ack) {
        co_return make_error(ErrorCode::corrupt, "expected an ack from the hub");
      }
      Status handled = on_ack(ack.value());
      if (!handled) co_return handled;
    } while (in_flight_ > 0 && connection_->input_waiting());
    co_return Status{};
  }

  // Purges a scope the hub says the node may no longer read, then confirms. While live the
  // pusher owns writing, so the confirmation waits for its next round.
  asio::awaitable<Status> drop(const std::string& scope, bool live) {
    auto purged = store::purge_scope(node_.replica(), scope);
    if (!purged) co_return purged.error();
    log::info("node", "purged scope " + scope + ": " + std::to_string(purged->records) +
                          " records, " + std::to_string(purged->changesets) + " changesets");
    if (live) {
      dropped_.push_back(scope);
      watch_->poke();
      co_return Status{};
    }
    co_return co_await connection_->write_frame(net::dropped_message(scope));
  }

  // Live: the pusher owns writing to the hub while read_loop() reads.
  asio::awaitable<Status> start_pusher() {
    auto executor = co_await asio::this_coro::executor;
    auto watch = OutboxWatch::open(executor, node_.dir());
    if (!watch) co_return watch.error();
    watch_ = std::move(watch.value());
    pusher_exit_.emplace(executor);
    pusher_running_ = true;
    asio::co_spawn(executor, pusher(), asio::detached);
    co_return Status{};
  }

  // Ends the pusher and waits for it, since it uses the connection and this session. A write of
  // its that does not end is given up on with the connection.
  asio::awaitable<void> stop_pusher() {
    if (watch_) watch_->poke();
    for (bool first = true; pusher_running_; first = false) {
      if (!first) connection_->abort();
      pusher_exit_->expires_after(kPusherStop);
      boost::system::error_code ignored;
      co_await pusher_exit_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  }

  // Live: confirms purges and pushes what local commands add to the outbox, woken by their
  // commits (OutboxWatch), by acks that give the window room and by purges. A failure ends the
  // session: serve() connects again.
  asio::awaitable<void> pusher() {
    while (!stopped_) {
      Status sent = co_await send_dropped();
      if (sent && !stopped_) sent = co_await push_more();
      if (!sent) {
        if (!stopped_) log::warning("node", "pushing to the hub: " + sent.error().message);
        connection_->abort();
        break;
      }
      if (!stopped_) co_await watch_->wait(kOutboxFallback);
    }
    pusher_running_ = false;
    pusher_exit_->cancel();
  }

  asio::awaitable<Status> send_dropped() {
    while (!dropped_.empty() && !stopped_) {
      std::string frame = net::dropped_message(dropped_.front());
      dropped_.erase(dropped_.begin());
      Status sent = co_await connection_->write_frame(frame);
      if (!sent) co_return sent;
    }
    co_return Status{};
  }

  asio::awaitable<Status> read_loop(bool live) {
    for (;;) {
      auto message = co_await read();
      if (!message) co_return message.error();
      switch (message->kind) {
        case net::SyncMessage::Kind::deliver: {
          Status applied = apply_delivered(node_, message->entries, summary_);
          if (!applied) co_return applied;
          break;
        }
        case net::SyncMessage::Kind::ack: {
          Status handled = on_ack(message.value());
          if (!handled) co_return handled;
          break;
        }
        case net::SyncMessage::Kind::drop: {
          Status dropped = co_await drop(message->scope, live);
          if (!dropped) co_return dropped;
          break;
        }
        case net::SyncMessage::Kind::caught_up: {
          // Caught up in the hub's order: the tombstones of refused changesets can go.
          auto compacted = store::compact(node_.replica());
          if (!compacted) co_return compacted.error().context("once caught up");
          summary_.tombstones_dropped += compacted->dropped;
          if (!live) co_return Status{};
          log::info("node", "caught up at hub seq " + std::to_string(message->hub_seq));
          break;
        }
        default: co_return make_error(ErrorCode::corrupt, "an unexpected message from the hub");
      }
    }
  }

  Node& node_;
  SyncSummary& summary_;
  std::optional<net::Connection> connection_;
  std::uint64_t sent_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t acked_ = 0;  // the last seq the hub answered
  bool stopped_ = false;
  std::vector<std::string> dropped_;    // scopes purged, confirmation not sent yet
  std::unique_ptr<OutboxWatch> watch_;  // live only
  bool pusher_running_ = false;
  std::optional<asio::steady_timer> pusher_exit_;  // cancelled when the pusher ends
};

}  // namespace

Status join(Node& node, const std::string& hub, const std::string& fingerprint) {
  auto colon = hub.rfind(':');
  if (colon == std::string::npos || colon == 0 || std::atoi(hub.c_str() + colon + 1) <= 0) {
    return make_error(ErrorCode::invalid_argument, "--hub: '" + hub + "' is not HOST:PORT");
  }
  if (fingerprint.size() != 64 ||
      fingerprint.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return make_error(ErrorCode::invalid_argument,
                      "--fingerprint: '" + fingerprint + "' is not 64 hexadecimal digits");
  }
  auto writer = node.replica().begin_write();
  if (!writer) return writer.error();
  std::string lower = fingerprint;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Status a = writer->set_meta("hub", hub);
  Status b = writer->set_meta("fingerprint", lower);
  if (!a || !b) return !a ? a : b;
  return writer->commit();
}

Result<SyncSummary> sync_once(Node& node) {
  asio::io_context io;
  SyncSummary summary;
  Session session(node, summary);
  auto done = asio::co_spawn(io, session.run(false), asio::use_future);
  io.run();
  Status status = done.get();
  (void)set_meta(node, "last_error", status ? "" : status.error().message);
  if (!status) return status.error();
  return summary;
}

int serve(Node& node) {
  asio::io_context io;
  bool stopping = false;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) {
    stopping = true;
    io.stop();
  });
  auto loop = [&]() -> asio::awaitable<void> {
    std::mt19937 random(std::random_device{}());
    std::chrono::milliseconds backoff(100);
    while (!stopping) {
      SyncSummary summary;
      Session session(node, summary);
      Status ended = co_await session.run(true);
      std::string why = ended ? "the hub closed the session" : ended.error().message;
      (void)set_meta(node, "last_error", why);
      log::warning("node", "sync session ended: " + why + "; reconnecting");
      if (summary.received > 0 || summary.accepted > 0) backoff = std::chrono::milliseconds(100);
      std::uniform_int_distribution<int> jitter(0, static_cast<int>(backoff.count() / 2));
      asio::steady_timer timer(io, backoff + std::chrono::milliseconds(jitter(random)));
      boost::system::error_code ignored;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
    }
  };
  asio::co_spawn(io, loop(), asio::detached);
  io.run();
  return 0;
}

}  // namespace tutelle::node
