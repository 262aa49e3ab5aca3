#include "store/maintenance.hpp"

#include <vector>

namespace tutelle::store {

namespace {

// Every key of `table` that starts with `scope` \0, without that prefix: the ids of by_home,
// the changeset keys of by_scope.
Result<std::vector<std::string>> keys_in_scope(const Txn& txn, const Table& table,
                                               const std::string& scope) {
  std::vector<std::string> keys;
  std::string prefix = scope + '\0';
  Status scanned = txn.scan(table, prefix, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!scanned) return scanned.error();
  return keys;
}

// Erases the tombstones that `scope` left.
// TODO(perf): the tombstones are scanned whole; compaction keeps them few.
Status erase_tombstones(Txn& txn, const Table& tombstones, const std::string& scope) {
  std::vector<std::string> keys;
  Status scanned = txn.scan(tombstones, "", [&](std::string_view key, std::string_view left_by) {
    if (left_by == scope) keys.emplace_back(key);
    return true;
  });
  if (!scanned) return scanned;
  for (const auto& key : keys) {
    auto erased = txn.erase(tombstones, key);
    if (!erased) return erased.error();
  }
  return {};
}

struct Stored {
  std::string bytes;
  bool own = false;
};

// Every stored changeset with an applied mark that is not 'r', own ones first.
Result<std::vector<Stored>> applied_changesets(const Replica& replica, const Txn& txn) {
  std::vector<Stored> out;
  Status inner;
  auto collect = [&](bool own) {
    return [&, own](std::string_view, std::string_view bytes) {
      auto envelope = decode_signed(bytes);
      if (!envelope) {
        inner = envelope.error();
        return false;
      }
      auto body = decode_changeset_body(envelope->body);
      if (!body) {
        inner = body.error();
        return false;
      }
      auto mark = txn.get(replica.table("applied"), changeset_key(body->origin, body->seq));
      // No mark: an own changeset of a purged scope, held without its effect.
      bool effective =
          mark && mark.value() && !mark.value()->empty() && mark.value()->back() != 'r';
      if (effective) out.push_back({std::string(bytes), own});
      return true;
    };
  };
  Status own = txn.scan(replica.table("outbox"), "", collect(true));
  if (!own) return own.error();
  Status others = txn.scan(replica.table("changesets"), "", collect(false));
  if (!others) return others.error();
  if (!inner) return inner.error();
  return out;
}

// Erases the applied marks of the own changesets of `scope` that were applied: the outbox keeps
// them, without their effect, until the scope is read again and the hub sends them back.
// Refused ones keep their mark, so that they stay refused.
// TODO(perf): the outbox is scanned whole; it has no index by scope.
Status unmark_own(const Replica& replica, Txn& txn, const std::string& scope) {
  std::vector<std::string> keys;
  Status inner;
  Status scanned = txn.scan(replica.table("outbox"), "", [&](std::string_view, std::string_view v) {
    auto envelope = decode_signed(v);
    auto body =
        envelope ? decode_changeset_body(envelope->body) : Result<Changeset>(envelope.error());
    if (!body) {
      inner = body.error().context("outbox");
      return false;
    }
    if (body->scope == scope) keys.push_back(changeset_key(body->origin, body->seq));
    return true;
  });
  if (!scanned) return scanned;
  if (!inner) return inner;
  for (const auto& key : keys) {
    auto mark = txn.get(replica.table("applied"), key);
    if (!mark) return mark.error();
    if (!mark.value() || mark.value()->empty() || mark.value()->back() == 'r') continue;
    auto erased = txn.erase(replica.table("applied"), key);
    if (!erased) return erased.error();
  }
  return {};
}

}  // namespace

Result<PurgeSummary> purge_scope(Replica& replica, const std::string& scope) {
  auto writer = replica.begin_write();
  if (!writer) return writer.error();
  Txn& txn = writer->txn();
  PurgeSummary summary;

  auto ids = keys_in_scope(txn, replica.table("by_home"), scope);
  if (!ids) return ids.error();
  for (const auto& id : ids.value()) {
    auto record = writer->load(id);
    if (!record) return record.error();
    if (!record.value()) continue;
    RecordState gone = *record.value();
    gone.fields.clear();
    writer->stage(std::move(gone));
  }
  summary.records = ids->size();

  auto keys = keys_in_scope(txn, replica.table("by_scope"), scope);
  if (!keys) return keys.error();
  for (const auto& key : keys.value()) {
    for (const char* table : {"changesets", "applied"}) {
      auto erased = txn.erase(replica.table(table), key);
      if (!erased) return erased.error();
    }
    auto erased = txn.erase(replica.table("by_scope"), scope + '\0' + key);
    if (!erased) return erased.error();
  }
  summary.changesets = keys->size();

  Status forgotten = erase_tombstones(txn, replica.table("tombstones"), scope);
  if (!forgotten) return forgotten.error();
  Status unmarked = unmark_own(replica, txn, scope);
  if (!unmarked) return unmarked.error();
  auto cursor = txn.erase(replica.table("meta"), "cursor:" + scope);
  if (!cursor) return cursor.error();
  Status marked = writer->set_meta(kRewritePending, "1");
  if (!marked) return marked.error();
  Status committed = writer->commit();
  if (!committed) return committed.error();
  return summary;
}

Result<Compaction> compact(Replica& replica) {
  auto writer = replica.begin_write();
  if (!writer) return writer.error();
  auto dropped = writer->compact_tombstones();
  if (!dropped) return dropped.error();
  auto left = writer->txn().count(replica.table("tombstones"));
  if (!left) return left.error();
  Status committed = writer->commit();
  if (!committed) return committed.error().context("compaction");
  return Compaction{dropped.value(), left.value()};
}

Status roll_back_refused(Replica& replica, std::uint64_t seq, const std::string& reason) {
  auto writer = replica.begin_write();
  if (!writer) return writer.error();
  Txn& txn = writer->txn();
  auto own = txn.get(replica.table("outbox"), encode_u64(seq));
  if (!own) return own.error();
  if (!own.value()) {
    return make_error(ErrorCode::not_found, "no own changeset with seq " + std::to_string(seq));
  }
  auto envelope = decode_signed(*own.value());
  if (!envelope) return envelope.error();
  auto body = decode_changeset_body(envelope->body);
  if (!body) return body.error();
  std::string key = changeset_key(body->origin, body->seq);
  std::string mark(reinterpret_cast<const char*>(blake2b_256(envelope->body).data()), 32);
  Status marked = txn.put(replica.table("applied"), key, mark + 'r');
  if (!marked) return marked;
  Status reason_kept = writer->set_meta("refused:" + std::to_string(seq), reason);
  if (!reason_kept) return reason_kept;

  auto kept = applied_changesets(replica, txn);
  if (!kept) return kept.error();
  // TODO(perf): every record is rebuilt from every changeset; only the refused changeset's
  // scope changes, but the outbox has no index by scope to find that scope's own changesets.
  for (const char* table : {"records", "by_type", "by_ident", "by_home", "tombstones"}) {
    Status cleared = txn.clear(replica.table(table));
    if (!cleared) return cleared;
  }
  for (const auto& stored : kept.value()) {
    auto again = decode_signed(stored.bytes);
    auto changeset = again ? decode_changeset_body(again->body) : Result<Changeset>(again.error());
    if (!changeset) return changeset.error();
    auto erased =
        txn.erase(replica.table("applied"), changeset_key(changeset->origin, changeset->seq));
    if (!erased) return erased.error();
    auto applied =
        writer->apply(changeset.value(), stored.bytes, blake2b_256(again->body), stored.own);
    if (!applied) return applied.error();
  }
  return writer->commit();
}

}  // namespace tutelle::store
