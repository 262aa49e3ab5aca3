#include "store/maintenance.hpp"

#include <vector>

namespace tutelle::store {

namespace {

// The scope of a stored SignedChangeset, or "" if it does not decode.
std::string scope_of(std::string_view signed_bytes) {
  auto envelope = decode_signed(signed_bytes);
  if (!envelope) return "";
  auto body = decode_changeset_body(envelope->body);
  return body ? body->scope : "";
}

struct Stored {
  std::string bytes;
  bool own = false;
};

// Every stored changeset whose applied mark is not 'r', own ones first.
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
      bool refused = mark && mark.value() && !mark.value()->empty() && mark.value()->back() == 'r';
      if (!refused) out.push_back({std::string(bytes), own});
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

}  // namespace

Result<PurgeSummary> purge_scope(Replica& replica, const std::string& scope) {
  auto writer = replica.begin_write();
  if (!writer) return writer.error();
  Txn& txn = writer->txn();
  PurgeSummary summary;

  // TODO(perf): records and changesets are scanned whole; an index by scope would make a
  // purge proportional to the scope.
  std::vector<std::string> ids;
  Status listed = replica.for_each_record(txn, "", [&](const RecordState& record) {
    if (record.home == scope) ids.push_back(record.id);
    return true;
  });
  if (!listed) return listed.error();
  for (const auto& id : ids) {
    auto record = writer->load(id);
    if (!record) return record.error();
    RecordState gone = *record.value();
    gone.fields.clear();
    writer->stage(std::move(gone));
  }
  summary.records = ids.size();

  std::vector<std::string> keys;
  Status scanned =
      txn.scan(replica.table("changesets"), "", [&](std::string_view key, std::string_view bytes) {
        if (scope_of(bytes) == scope) keys.emplace_back(key);
        return true;
      });
  if (!scanned) return scanned.error();
  for (const auto& key : keys) {
    auto a = txn.erase(replica.table("changesets"), key);
    auto b = txn.erase(replica.table("applied"), key);
    if (!a) return a.error();
    if (!b) return b.error();
  }
  summary.changesets = keys.size();
  auto cursor = txn.erase(replica.table("meta"), "cursor:" + scope);
  if (!cursor) return cursor.error();
  Status committed = writer->commit();
  if (!committed) return committed.error();
  return summary;
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
  for (const char* table : {"records", "by_type", "by_ident", "tombstones"}) {
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
