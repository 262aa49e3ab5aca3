#include "store/replica.hpp"

#include <algorithm>
#include <cstring>
#include <set>

namespace tutelle::store {

namespace {

const std::vector<std::string>& table_names() {
  static const std::vector<std::string> names = {"records",    "by_type", "by_ident",   "by_home",
                                                 "by_scope",   "outbox",  "changesets", "applied",
                                                 "tombstones", "meta"};
  return names;
}

std::string dot_key(const Dot& dot) {
  std::string key = changeset_key(dot.origin, dot.seq);
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((dot.index >> shift) & 0xff));
  }
  return key;
}

std::string type_key(const RecordState& record) {
  return record.type + '\0' + record.id;
}

std::string home_key(const RecordState& record) {
  return record.home + '\0' + record.id;
}

// The by_scope key of the changeset stored under `key` in the changesets table.
std::string scope_key(const std::string& scope, std::string_view key) {
  return scope + '\0' + std::string(key);
}

std::string mark_bytes(const HashBytes& hash, bool refused) {
  std::string bytes(reinterpret_cast<const char*>(hash.data()), hash.size());
  bytes.push_back(refused ? 'r' : 'a');
  return bytes;
}

}  // namespace

std::string origin_bytes(const KeyBytes& origin) {
  return std::string(reinterpret_cast<const char*>(origin.data()), origin.size());
}

std::string changeset_key(const KeyBytes& origin, std::uint64_t seq) {
  return origin_bytes(origin) + encode_u64(seq);
}

std::vector<std::string> identifier_keys(const RecordState& record) {
  std::vector<std::string> keys;
  const TypeSpec* type = find_type(record.type);
  if (type == nullptr) return keys;
  for (const auto& field : record.fields) {
    const FieldSpec* spec = type->field(field.name);
    if (spec == nullptr || spec->kind != FieldKind::identifier) continue;
    for (const auto& entry : field.entries) {
      keys.push_back(std::string(to_string(spec->identifier)) + ":" + value_text(entry.value));
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Result<std::unique_ptr<Replica>> Replica::open(const std::filesystem::path& dir,
                                               EnvironmentOptions options,
                                               const std::vector<std::string>& extra_tables) {
  std::vector<std::string> tables = table_names();
  tables.insert(tables.end(), extra_tables.begin(), extra_tables.end());
  auto env = Environment::open(dir, tables, options);
  if (!env) return env.error();
  std::unique_ptr<Replica> replica(new Replica());
  replica->env_ = std::move(env.value());
  if (!options.read_only) {
    // Read first: an open writes nothing, and waits for no writer, unless it has to.
    auto missing = replica->check_scope_indexes();
    if (!missing) return missing.error();
    Status filled = missing.value() ? replica->fill_scope_indexes() : Status{};
    if (!filled) return filled.error().context("index by scope of " + dir.string());
  }
  return replica;
}

// The indexes are complete or empty: every write since they exist keeps them, so an empty one
// beside a non-empty table is a store from before them.
Result<bool> Replica::scope_indexes_missing(const Txn& txn) const {
  auto homes = txn.count(table("by_home"));
  auto records = txn.count(table("records"));
  auto scopes = txn.count(table("by_scope"));
  auto changesets = txn.count(table("changesets"));
  for (const auto* counted : {&homes, &records, &scopes, &changesets}) {
    if (!*counted) return counted->error();
  }
  return (homes.value() == 0 && records.value() > 0) ||
         (scopes.value() == 0 && changesets.value() > 0);
}

Result<bool> Replica::check_scope_indexes() const {
  auto txn = begin_read();  // ended before a write transaction may begin in this thread
  if (!txn) return txn.error();
  return scope_indexes_missing(txn.value());
}

Status Replica::fill_scope_indexes() {
  auto writer = begin_write();
  if (!writer) return writer.error();
  Txn& txn = writer->txn();
  auto missing = scope_indexes_missing(txn);
  if (!missing) return missing.error();
  if (!missing.value()) return {};  // another process filled them: aborted, nothing written

  Status inner;
  Status listed = for_each_record(txn, "", [&](const RecordState& record) {
    inner = txn.put(table("by_home"), home_key(record), "");
    return inner.ok();
  });
  if (listed) listed = inner;
  if (!listed) return listed;
  Status scanned =
      txn.scan(table("changesets"), "", [&](std::string_view key, std::string_view bytes) {
        auto envelope = decode_signed(bytes);
        auto body =
            envelope ? decode_changeset_body(envelope->body) : Result<Changeset>(envelope.error());
        inner = body ? txn.put(table("by_scope"), scope_key(body->scope, key), "") : body.error();
        return inner.ok();
      });
  if (scanned) scanned = inner;
  if (!scanned) return scanned;
  return txn.commit();
}

Result<Writer> Replica::begin_write() {
  auto txn = env_->begin_write();
  if (!txn) return txn.error();
  return Writer(*this, std::move(txn.value()));
}

Result<std::optional<RecordState>> Replica::get(const Txn& txn, const std::string& id) const {
  auto bytes = txn.get(table("records"), id);
  if (!bytes) return bytes.error();
  if (!bytes.value()) return std::optional<RecordState>();
  auto record = decode_record(*bytes.value());
  if (!record) return record.error().context("record " + id);
  return std::optional<RecordState>(std::move(record.value()));
}

Status Replica::for_each_record(const Txn& txn, const std::string& type,
                                const std::function<bool(const RecordState&)>& visit) const {
  Status inner;
  auto visit_bytes = [&](std::string_view id, std::string_view bytes) {
    auto record = decode_record(bytes);
    if (!record) {
      inner = record.error().context("record " + std::string(id));
      return false;
    }
    return visit(record.value());
  };
  Status scanned;
  if (type.empty()) {
    scanned = txn.scan(table("records"), "", visit_bytes);
  } else {
    scanned = txn.scan(table("by_type"), type + '\0', [&](std::string_view key, std::string_view) {
      std::string id(key.substr(type.size() + 1));
      auto bytes = txn.get(table("records"), id);
      if (!bytes || !bytes.value()) {
        inner = make_error(ErrorCode::corrupt, "by_type lists " + id + " but records lacks it");
        return false;
      }
      return visit_bytes(id, *bytes.value());
    });
  }
  if (!scanned) return scanned;
  return inner;
}

Result<std::vector<std::string>> Replica::ids_by_identifier(const Txn& txn, IdentifierKind kind,
                                                            const std::string& value) const {
  std::vector<std::string> ids;
  // A record whose id is its natural key ("orcid:…") is found by that id, not in by_ident.
  std::string natural = std::string(to_string(kind)) + ":" + value;
  auto record = get(txn, natural);
  if (!record) return record.error();
  if (record.value()) {
    const FieldSpec* spec = nullptr;
    if (const TypeSpec* type = find_type(record.value()->type)) {
      for (const auto& field : type->fields) {
        if (field.kind == FieldKind::identifier && field.identifier == kind) spec = &field;
      }
    }
    const FieldState* held = spec ? record.value()->field(spec->name) : nullptr;
    if (held != nullptr && !conflict::element_dots(held, Value{value}).empty()) {
      ids.push_back(natural);
    }
  }
  std::string prefix = natural + '\0';
  Status scanned = txn.scan(table("by_ident"), prefix, [&](std::string_view key, std::string_view) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!scanned) return scanned.error();
  return ids;
}

Result<std::optional<std::string>> Replica::meta(const Txn& txn, const std::string& name) const {
  auto value = txn.get(table("meta"), name);
  if (!value) return value.error();
  if (!value.value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*value.value()));
}

Result<std::optional<std::string>> Replica::signed_changeset(const Txn& txn, const KeyBytes& origin,
                                                             std::uint64_t seq, bool own) const {
  auto bytes = own ? txn.get(table("outbox"), encode_u64(seq))
                   : txn.get(table("changesets"), changeset_key(origin, seq));
  if (!bytes) return bytes.error();
  if (!bytes.value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*bytes.value()));
}

Result<std::optional<RecordState>*> Writer::cached(const std::string& id) {
  auto found = cache_.find(id);
  if (found != cache_.end()) return &found->second.current;
  auto bytes = txn_.get(replica_.table("records"), id);
  if (!bytes) return bytes.error();
  Slot slot;
  if (bytes.value()) {
    auto record = decode_record(*bytes.value());
    if (!record) return record.error().context("record " + id);
    slot.before = Stored{std::string(*bytes.value()), identifier_keys(record.value()),
                         type_key(record.value()), home_key(record.value())};
    slot.current = std::move(record.value());
  }
  return &cache_.emplace(id, std::move(slot)).first->second.current;
}

Result<std::optional<RecordState>> Writer::load(const std::string& id) {
  auto slot = cached(id);
  if (!slot) return slot.error();
  return *slot.value();
}

Result<ApplyOutcome> Writer::apply(const Changeset& changeset, std::string_view signed_bytes,
                                   const HashBytes& hash, bool own) {
  std::string key = changeset_key(changeset.origin, changeset.seq);
  auto known = txn_.get(replica_.table("applied"), key);
  if (!known) return known.error();
  if (known.value()) {
    if (std::memcmp(known.value()->data(), hash.data(), hash.size()) == 0) {
      return ApplyOutcome::duplicate;
    }
    return make_error(ErrorCode::conflict, "fork: seq " + std::to_string(changeset.seq) +
                                               " of origin " + hex(changeset.origin) +
                                               " is known with another hash");
  }

  for (std::uint32_t i = 0; i < changeset.operations.size(); ++i) {
    const Operation& op = changeset.operations[i];
    auto slot = cached(op.record);
    if (!slot) return slot.error();
    // Merged in place: copying the record for each operation would cost its size each time.
    std::optional<RecordState>& record = *slot.value();
    if (!record) record = RecordState{op.record, op.type, changeset.scope, {}};
    if (record->type != op.type || record->home != changeset.scope) {
      return make_error(ErrorCode::refused, "operation " + std::to_string(i) + " on " + op.record +
                                                ": the record is a " + record->type + " of scope " +
                                                record->home + ", not a " + op.type + " of scope " +
                                                changeset.scope);
    }
    conflict::apply_operation(*record, changeset, i, *this);
    if (record->deleted()) record.reset();
  }
  if (!deferred_) return deferred_.error();

  Status logged = log_applied(changeset, signed_bytes, hash, own);
  if (!logged) return logged.error();
  return ApplyOutcome::applied;
}

void Writer::stage(RecordState record) {
  auto loaded = cached(record.id);  // what the indexes hold for it, to update them at flush
  if (!loaded) {
    if (deferred_) deferred_ = loaded.error();
    return;
  }
  std::optional<RecordState>& slot = *loaded.value();
  if (record.deleted()) {
    slot.reset();
  } else {
    slot = std::move(record);
  }
}

Status Writer::store_changeset(const Changeset& changeset, std::string_view signed_bytes,
                               bool own) {
  if (own) return txn_.put(replica_.table("outbox"), encode_u64(changeset.seq), signed_bytes);
  std::string key = changeset_key(changeset.origin, changeset.seq);
  Status stored = txn_.put(replica_.table("changesets"), key, signed_bytes);
  if (!stored) return stored;
  return txn_.put(replica_.table("by_scope"), scope_key(changeset.scope, key), "");
}

Status Writer::log_applied(const Changeset& changeset, std::string_view signed_bytes,
                           const HashBytes& hash, bool own) {
  Status stored = store_changeset(changeset, signed_bytes, own);
  if (!stored) return stored;
  return txn_.put(replica_.table("applied"), changeset_key(changeset.origin, changeset.seq),
                  mark_bytes(hash, false));
}

Status Writer::mark_refused(const Changeset& changeset, std::string_view signed_bytes,
                            const HashBytes& hash, bool own) {
  Status stored = store_changeset(changeset, signed_bytes, own);
  if (!stored) return stored;
  return txn_.put(replica_.table("applied"), changeset_key(changeset.origin, changeset.seq),
                  mark_bytes(hash, true));
}

Result<std::optional<std::string>> Writer::meta(const std::string& name) {
  return replica_.meta(txn_, name);
}

Status Writer::set_meta(const std::string& name, std::string_view value) {
  return txn_.put(replica_.table("meta"), name, value);
}

Status Writer::update_indexes(const std::string& id, const std::optional<Stored>& before,
                              const RecordState* after) {
  static const std::vector<std::string> kNone;
  const std::vector<std::string>& old_keys = before ? before->identifiers : kNone;
  std::vector<std::string> new_keys = after ? identifier_keys(*after) : std::vector<std::string>{};
  for (const auto& key : old_keys) {
    if (key == id || std::binary_search(new_keys.begin(), new_keys.end(), key)) continue;
    auto erased = txn_.erase(replica_.table("by_ident"), key + '\0' + id);
    if (!erased) return erased.error();
  }
  for (const auto& key : new_keys) {
    if (key == id || std::binary_search(old_keys.begin(), old_keys.end(), key)) continue;
    Status put = txn_.put(replica_.table("by_ident"), key + '\0' + id, "");
    if (!put) return put;
  }
  if (before && after == nullptr) {
    auto erased = txn_.erase(replica_.table("by_type"), before->type);
    if (!erased) return erased.error();
  }
  if (!before && after != nullptr) {
    Status put = txn_.put(replica_.table("by_type"), type_key(*after), "");
    if (!put) return put;
  }
  std::string new_home = after ? home_key(*after) : std::string();
  if (before && after && before->home == new_home) return {};
  if (before) {
    auto erased = txn_.erase(replica_.table("by_home"), before->home);
    if (!erased) return erased.error();
  }
  return after ? txn_.put(replica_.table("by_home"), new_home, "") : Status{};
}

Status Writer::write_record(const std::string& id) {
  const auto& [before, after] = cache_.at(id);
  if (!before && !after) return {};
  if (after) {
    std::string bytes = encode_record(*after);
    if (before && before->bytes == bytes) return {};
    Status put = txn_.put(replica_.table("records"), id, bytes);
    if (!put) return put;
  } else {
    auto erased = txn_.erase(replica_.table("records"), id);
    if (!erased) return erased.error();
  }
  return update_indexes(id, before, after ? &*after : nullptr);
}

Status Writer::flush() {
  if (!deferred_) return deferred_;
  for (const auto& [id, states] : cache_) {
    Status written = write_record(id);
    if (!written) return written;
  }
  cache_.clear();
  return {};
}

Status Writer::commit() {
  Status flushed = flush();
  if (!flushed) return flushed;
  return txn_.commit();
}

bool Writer::applied(const KeyBytes& origin, std::uint64_t seq) {
  auto known = txn_.get(replica_.table("applied"), changeset_key(origin, seq));
  if (!known) {
    if (deferred_) deferred_ = known.error();
    return false;
  }
  return known.value().has_value();
}

bool Writer::take_tombstone(const Dot& dot) {
  auto erased = txn_.erase(replica_.table("tombstones"), dot_key(dot));
  if (!erased) {
    if (deferred_) deferred_ = erased.error();
    return false;
  }
  return erased.value();
}

void Writer::add_tombstone(const Dot& dot, const std::string& scope) {
  Status put = txn_.put(replica_.table("tombstones"), dot_key(dot), scope);
  if (!put && deferred_) deferred_ = put;
}

Status Writer::observe_origin(conflict::Frontier& frontier, const KeyBytes& origin) {
  auto own = meta("origin");
  if (!own) return own.error();
  bool is_own = own.value() && *own.value() == origin_bytes(origin);
  Status inner;
  Status scanned = txn_.scan(
      replica_.table("applied"), origin_bytes(origin), [&](std::string_view key, std::string_view) {
        std::uint64_t seq = decode_u64(key.substr(32, 8));
        auto bytes = replica_.signed_changeset(txn_, origin, seq, is_own);
        if (!bytes || !bytes.value()) return true;  // refused marks keep no body at the hub
        auto envelope = decode_signed(*bytes.value());
        auto body =
            envelope ? decode_changeset_body(envelope->body) : Result<Changeset>(envelope.error());
        if (!body) {
          inner = body.error().context("compaction");
          return false;
        }
        frontier.observe(body->scope, origin, seq);
        return true;
      });
  if (!scanned) return scanned;
  return inner;
}

Result<std::size_t> Writer::compact_tombstones() {
  std::vector<std::pair<std::string, std::string>> tombstones;  // key, scope
  Status listed =
      txn_.scan(replica_.table("tombstones"), "", [&](std::string_view key, std::string_view v) {
        tombstones.emplace_back(key, v);
        return true;
      });
  if (!listed) return listed.error();

  conflict::Frontier frontier;
  std::set<KeyBytes> observed;
  std::size_t dropped = 0;
  for (const auto& [key, scope] : tombstones) {
    Dot dot;
    std::memcpy(dot.origin.data(), key.data(), 32);
    dot.seq = decode_u64(key.substr(32, 8));
    if (observed.insert(dot.origin).second) {
      Status seen = observe_origin(frontier, dot.origin);
      if (!seen) return seen.error();
    }
    if (!frontier.passed(dot, scope)) continue;
    auto erased = txn_.erase(replica_.table("tombstones"), key);
    if (!erased) return erased.error();
    ++dropped;
  }
  return dropped;
}

}  // namespace tutelle::store
