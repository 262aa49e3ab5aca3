// Hub::push: the checks a pushed changeset passes before it is accepted, in this order:
// signature over the raw bytes, then decoding with limits (verify_changeset); the origin is
// the connected node, still enrolled and not quarantined since it connected; the chain (seq,
// prev) with forks quarantined and gaps asked for; the catalogue; the hybrid clock; the
// establishment and the scope; the author's habilitations (check_author). Then it is applied,
// logged and indexed in one transaction.

#include <cstring>
#include <optional>

#include "hub/hub.hpp"
#include "net/log.hpp"

namespace tutelle::hub {

namespace {

std::string key_bytes(const KeyBytes& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

struct Head {
  std::uint64_t seq = 0;
  HashBytes hash{};
};

Result<Head> read_head(const store::Txn& txn, const store::Table& heads, const KeyBytes& origin) {
  auto bytes = txn.get(heads, key_bytes(origin));
  if (!bytes) return bytes.error();
  Head head;
  if (bytes.value() && bytes.value()->size() == 40) {
    head.seq = store::decode_u64(bytes.value()->substr(0, 8));
    std::memcpy(head.hash.data(), bytes.value()->data() + 8, 32);
  }
  return head;
}

std::string head_bytes(std::uint64_t seq, const HashBytes& hash) {
  return store::encode_u64(seq) + std::string(reinterpret_cast<const char*>(hash.data()), 32);
}

// The answer to a node whose session outlived its right to push: quarantined (another session
// of its key forked) or revoked since it connected. Empty while it may push.
// TODO(security): such a session is ended only at its next push; until then it still reads.
std::optional<PushOutcome> barred(const std::optional<NodeInfo>& info, const Changeset& changeset) {
  PushOutcome outcome;
  outcome.seq = changeset.seq;
  outcome.scope = changeset.scope;
  outcome.close = true;
  if (info && info->quarantined) {
    outcome.result = PushResult::fork;
    outcome.reason = "origin " + hex(changeset.origin) + " is quarantined: " + info->why;
    return outcome;
  }
  if (!info || info->revoked) {
    outcome.result = PushResult::refused;
    outcome.reason = "key " + hex(changeset.origin) + " is no longer enrolled";
    return outcome;
  }
  return std::nullopt;
}

}  // namespace

Result<PushOutcome> Hub::quarantine(const identity::PublicKey& origin, std::uint64_t seq,
                                    std::string reason) {
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  auto info = node_info(writer->txn(), origin);
  if (!info) return info.error();
  NodeInfo fresh;
  fresh.key = identity::to_hex(origin);
  NodeInfo node = info.value().value_or(fresh);
  node.quarantined = true;
  node.why = reason;
  Status put = put_node(writer.value(), origin, node);
  if (!put) return put.error();
  Status committed = writer->commit();
  if (!committed) return committed.error();
  log::warning("hub", "quarantined origin " + node.key + ": " + reason);
  return PushOutcome{PushResult::fork, seq, 0, 0, "", std::move(reason), true};
}

Result<PushOutcome> Hub::refuse(const identity::VerifiedChangeset& verified, std::string reason) {
  const Changeset& changeset = verified.changeset;
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  Status marked = writer->mark_refused(changeset, verified.signed_bytes, verified.hash, false);
  if (!marked) return marked.error();
  Status head = writer->txn().put(replica_->table("heads"), key_bytes(changeset.origin),
                                  head_bytes(changeset.seq, verified.hash));
  if (!head) return head.error();
  Status committed = writer->commit();
  if (!committed) return committed.error();
  log::warning("hub", "refused seq " + std::to_string(changeset.seq) + " of origin " +
                          hex(changeset.origin) + " in scope " + changeset.scope + ": " + reason);
  return PushOutcome{PushResult::refused, changeset.seq,     0,    0,
                     changeset.scope,     std::move(reason), false};
}

Result<PushOutcome> Hub::accept(const identity::VerifiedChangeset& verified) {
  const Changeset& changeset = verified.changeset;
  auto last = last_hub_seq();
  if (!last) return last.error();
  std::uint64_t hub_seq = last.value() + 1;
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  auto applied = writer->apply(changeset, verified.signed_bytes, verified.hash, false);
  if (!applied) {
    writer.value().txn().abort();
    return refuse(verified, applied.error().message);
  }
  std::string key = store::changeset_key(changeset.origin, changeset.seq);
  Status logged = writer->txn().put(replica_->table("hub_log"), store::encode_u64(hub_seq), key);
  if (!logged) return logged.error();
  Status indexed = writer->txn().put(replica_->table("scope_log"),
                                     changeset.scope + '\0' + store::encode_u64(hub_seq), "");
  if (!indexed) return indexed.error();
  Status head = writer->txn().put(replica_->table("heads"), key_bytes(changeset.origin),
                                  head_bytes(changeset.seq, verified.hash));
  if (!head) return head.error();
  Status committed = writer->commit();
  if (!committed) return committed.error();

  scopes_.insert(changeset.scope);
  auto txn = replica_->begin_read();
  if (txn) refresh_scope(txn.value(), changeset.scope);
  return PushOutcome{PushResult::accepted, changeset.seq, hub_seq, 0, changeset.scope, "", false};
}

Result<PushOutcome> Hub::push(const identity::PublicKey& session_key,
                              const std::string& establishment, std::string_view signed_bytes) {
  if (is_partner(establishment)) {
    // Only a broken or hostile node pushes here: the session ends, as for a forged origin.
    return PushOutcome{
        PushResult::refused,
        0,
        0,
        0,
        "",
        "a partner's node is read-only: the hub accepts no changeset from " + establishment,
        true};
  }
  auto verified = identity::verify_changeset(signed_bytes);
  if (!verified) {
    log::warning("hub", "refused a changeset: " + verified.error().message);
    return PushOutcome{PushResult::refused, 0, 0, 0, "", verified.error().message, true};
  }
  const Changeset& changeset = verified->changeset;
  if (changeset.origin != session_key) {
    return PushOutcome{PushResult::refused,
                       changeset.seq,
                       0,
                       0,
                       changeset.scope,
                       "a node pushes only its own changesets; origin " + hex(changeset.origin) +
                           " is not this node",
                       true};
  }

  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  auto info = node_info(txn.value(), session_key);
  if (!info) return info.error();
  if (auto outcome = barred(info.value(), changeset)) {
    log::warning("hub", "refused seq " + std::to_string(changeset.seq) + ": " + outcome->reason);
    return *outcome;
  }
  auto head = read_head(txn.value(), replica_->table("heads"), changeset.origin);
  if (!head) return head.error();
  if (changeset.seq <= head->seq) {
    auto known =
        txn->get(replica_->table("applied"), store::changeset_key(changeset.origin, changeset.seq));
    if (!known) return known.error();
    if (known.value() && std::memcmp(known.value()->data(), verified->hash.data(), 32) == 0) {
      log::info("hub", "duplicate seq " + std::to_string(changeset.seq) + " of origin " +
                           hex(changeset.origin) + ": held already, nothing changed");
      return PushOutcome{PushResult::duplicate, changeset.seq, 0, 0, changeset.scope, "", false};
    }
    txn.value().abort();
    return quarantine(changeset.origin, changeset.seq,
                      "fork: two different changesets with seq " + std::to_string(changeset.seq));
  }
  if (changeset.seq > head->seq + 1) {
    log::info("hub", "gap: seq " + std::to_string(changeset.seq) + " of origin " +
                         hex(changeset.origin) + " pushed before seq " +
                         std::to_string(head->seq + 1) + "; asked for it");
    return PushOutcome{PushResult::gap,
                       changeset.seq,
                       0,
                       head->seq + 1,
                       changeset.scope,
                       "expected seq " + std::to_string(head->seq + 1),
                       false};
  }
  if (changeset.prev != head->hash) {
    txn.value().abort();
    return quarantine(changeset.origin, changeset.seq,
                      "fork: seq " + std::to_string(changeset.seq) +
                          " does not follow the changeset the hub holds before it");
  }
  txn.value().abort();

  Status valid = check_changeset(changeset);
  if (!valid) return refuse(verified.value(), valid.error().message);
  Status clock = clock_.observe(changeset.hlc);
  if (!clock) return refuse(verified.value(), clock.error().message);
  if (changeset.establishment != establishment) {
    return refuse(verified.value(), "the changeset says establishment " + changeset.establishment +
                                        ", the node is enrolled for " + establishment);
  }
  if (!may_write(establishment, changeset)) {
    return refuse(verified.value(), "establishment " + establishment + " may not write in scope " +
                                        changeset.scope + ": it is not among its tutelles");
  }
  Status habilitated = check_author(changeset);
  if (!habilitated && habilitated.error().code != ErrorCode::refused) return habilitated.error();
  if (!habilitated) return refuse(verified.value(), habilitated.error().message);
  return accept(verified.value());
}

}  // namespace tutelle::hub
