#include "node/node.hpp"

#include <algorithm>
#include <set>

#include "conflict/merge.hpp"
#include "identity/changeset_signature.hpp"
#include "net/log.hpp"
#include "node/outbox_watch.hpp"
#include "protocol/codec.hpp"

namespace tutelle::node {

namespace {

constexpr const char* kStoreDir = "store";
constexpr const char* kKeyName = "node";

Error field_error(const TypeSpec& type, const std::string& field, const std::string& what) {
  return make_error(ErrorCode::invalid_argument, type.name + "." + field + ": " + what);
}

Result<const FieldSpec*> require_field(const TypeSpec& type, const std::string& name) {
  if (const FieldSpec* spec = type.field(name)) return spec;
  std::string known;
  for (const auto& f : type.fields) known += (known.empty() ? "" : ", ") + f.name;
  return field_error(type, name, "no such field (fields: " + known + ")");
}

// The text value the edit gives `field`, if it assigns one.
std::optional<std::string> assigned(const RecordEdit& edit, const std::string& field) {
  for (const auto& f : edit.fields) {
    if (f.field == field && (f.mode == FieldEdit::Mode::assign || f.mode == FieldEdit::Mode::add) &&
        !f.values.empty()) {
      return f.values.front();
    }
  }
  return std::nullopt;
}

std::vector<Value> sorted(std::vector<Value> values) {
  std::sort(values.begin(), values.end());
  return values;
}

Operation make_op(OpKind kind, const TypeSpec& type, const std::string& id,
                  const std::string& field, Value value, std::vector<Dot> dots) {
  return Operation{kind, id, type.name, field, std::move(value), std::move(dots)};
}

// The operations that carry out one field edit on the record's current state.
Result<std::vector<Operation>> field_operations(const TypeSpec& type, const std::string& id,
                                                const FieldEdit& edit, const RecordState* current) {
  auto spec = require_field(type, edit.field);
  if (!spec) return spec.error();
  const FieldSpec& field = *spec.value();
  const FieldState* state = current ? current->field(field.name) : nullptr;
  std::vector<Operation> ops;

  std::vector<Value> values;
  for (const auto& text : edit.values) {
    auto value = parse_value(type, field, text);
    if (!value) return value.error();
    if (std::find(values.begin(), values.end(), value.value()) == values.end()) {
      values.push_back(std::move(value.value()));
    }
  }

  bool set_field = field.is_set();
  switch (edit.mode) {
    case FieldEdit::Mode::assign:
      if (!set_field && values.size() != 1) {
        return field_error(type, field.name,
                           "takes one value, not " + std::to_string(values.size()));
      }
      if (!set_field && state != nullptr && state->entries.size() == 1 &&
          state->entries[0].value == values[0]) {
        break;  // already so: writing it again would only add history
      }
      if (set_field && state != nullptr && state->entries.size() == values.size() &&
          conflict::set_values(*state) == sorted(values)) {
        break;
      }
      if (!set_field) {
        ops.push_back(
            make_op(OpKind::set, type, id, field.name, values[0], conflict::field_dots(state)));
        break;
      }
      if (state != nullptr) {
        ops.push_back(
            make_op(OpKind::remove, type, id, field.name, {}, conflict::field_dots(state)));
      }
      for (auto& v : values) ops.push_back(make_op(OpKind::add, type, id, field.name, v, {}));
      break;
    case FieldEdit::Mode::add:
    case FieldEdit::Mode::remove:
      if (!set_field) {
        return field_error(type, field.name, "is not a set field; use " + field.name + "=VALUE");
      }
      for (auto& v : values) {
        if (edit.mode == FieldEdit::Mode::add) {
          ops.push_back(make_op(OpKind::add, type, id, field.name, v, {}));
          continue;
        }
        auto dots = conflict::element_dots(state, v);
        if (dots.empty()) {
          return field_error(type, field.name, "'" + value_text(v) + "' is not in the set");
        }
        ops.push_back(make_op(OpKind::remove, type, id, field.name, {}, std::move(dots)));
      }
      break;
    case FieldEdit::Mode::clear:
      if (state != nullptr) {
        ops.push_back(
            make_op(OpKind::remove, type, id, field.name, {}, conflict::field_dots(state)));
      }
      break;
    case FieldEdit::Mode::resolve:
      if (set_field || values.size() != 1) {
        return field_error(type, field.name, "a resolution gives a single-valued field one value");
      }
      ops.push_back(
          make_op(OpKind::resolve, type, id, field.name, values[0], conflict::field_dots(state)));
      break;
  }
  return ops;
}

// The operation that makes a record a merged duplicate of `edit.values[0]`.
Result<Operation> merge_operation(const TypeSpec& type, const std::string& id,
                                  const FieldEdit& edit, const RecordState* current) {
  if (edit.mode != FieldEdit::Mode::assign || edit.values.size() != 1) {
    return field_error(type, edit.field, "takes the id of the record that survives");
  }
  Status checked = check_record_id(edit.values[0]);
  if (!checked) return checked.error().context(type.name + "." + edit.field);
  if (edit.values[0] == id) {
    return field_error(type, edit.field, "a record is not merged into itself");
  }
  std::vector<Dot> seen = current ? conflict::all_dots(*current) : std::vector<Dot>{};
  return make_op(OpKind::merge, type, id, "", Value{edit.values[0]}, std::move(seen));
}

// The operations that give `survivor` each value of `duplicate` it lacks. A single-valued field
// the survivor holds with other values gets the duplicate's beside them, superseding nothing.
std::vector<Operation> folded_values(const TypeSpec& type, const RecordState& survivor,
                                     const RecordState& duplicate) {
  std::vector<Operation> ops;
  for (const auto& field : duplicate.fields) {
    const FieldSpec* spec = type.field(field.name);
    if (spec == nullptr) continue;
    const FieldState* held = survivor.field(field.name);
    std::vector<Value> kept = held ? conflict::set_values(*held) : std::vector<Value>{};
    for (const auto& value : conflict::set_values(field)) {
      if (std::binary_search(kept.begin(), kept.end(), value)) continue;
      OpKind kind = spec->is_set() ? OpKind::add : OpKind::set;
      ops.push_back(make_op(kind, type, survivor.id, field.name, value, {}));
    }
  }
  return ops;
}

// The record's id: the edit's, else its natural key's, else a fresh random one.
Result<std::string> record_id(const TypeSpec& type, const RecordEdit& edit, std::uint64_t hlc) {
  if (edit.id) {
    Status checked = check_record_id(*edit.id);
    if (!checked) return checked.error();
    return *edit.id;
  }
  std::vector<std::pair<std::string, std::string>> identifiers;
  for (const auto& key : type.natural_keys) {
    auto text = assigned(edit, key);
    if (!text) continue;
    auto value = parse_value(type, *type.field(key), *text);
    if (!value) return value.error();
    identifiers.emplace_back(key, value_text(value.value()));
  }
  if (auto natural = natural_id(type, identifiers)) return *natural;
  return random_id(type, conflict::HybridClock::millis_of(hlc));
}

Status check_required(const TypeSpec& type, const RecordState& record) {
  for (const auto& field : type.fields) {
    if (field.required && record.field(field.name) == nullptr) {
      return field_error(type, field.name, "is required for " + record.id);
    }
  }
  return {};
}

Result<std::uint64_t> meta_u64(store::Writer& writer, const std::string& name) {
  auto value = writer.meta(name);
  if (!value) return value.error();
  return value.value() ? store::decode_u64(*value.value()) : 0;
}

Status write_settings(const std::filesystem::path& dir, const std::string& uai,
                      const KeyBytes& origin, const InitOptions& options) {
  auto replica = store::Replica::open(dir / kStoreDir);
  if (!replica) return replica.error();
  auto writer = replica.value()->begin_write();
  if (!writer) return writer.error();
  std::string role = options.partner ? "partner" : "node";
  for (const auto& [name, value] :
       {std::pair<std::string, std::string>{"establishment", uai},
        {"name", options.name},
        {"role", role},
        {"partner", options.partner_name},
        {"origin", std::string(reinterpret_cast<const char*>(origin.data()), origin.size())}}) {
    Status set = writer->set_meta(name, value);
    if (!set) return set;
  }
  return writer->commit();
}

}  // namespace

Result<FieldEdit> parse_field_edit(std::string_view word) {
  auto equals = word.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return make_error(
        ErrorCode::invalid_argument,
        "'" + std::string(word) + "' is not FIELD=VALUE, FIELD+=VALUE or FIELD-=VALUE");
  }
  FieldEdit edit;
  std::string_view name = word.substr(0, equals);
  std::string value(word.substr(equals + 1));
  if (name.back() == '+' || name.back() == '-') {
    edit.mode = name.back() == '+' ? FieldEdit::Mode::add : FieldEdit::Mode::remove;
    name.remove_suffix(1);
  } else if (value.empty()) {
    edit.mode = FieldEdit::Mode::clear;
  }
  edit.field = std::string(name);
  if (edit.mode != FieldEdit::Mode::clear) {
    if (value.empty()) {
      return make_error(ErrorCode::invalid_argument, edit.field + ": empty value");
    }
    edit.values.push_back(std::move(value));
  }
  return edit;
}

Result<std::unique_ptr<Node>> Node::create(const std::filesystem::path& dir,
                                           const InitOptions& options) {
  auto uai = options.partner ? Result<std::string>(std::string())
                             : validate_identifier(IdentifierKind::uai, "--establishment",
                                                   options.establishment);
  if (!uai) return uai.error();
  std::error_code ec;
  if (std::filesystem::exists(dir / kStoreDir, ec)) {
    return make_error(ErrorCode::conflict, dir.string() + " holds a node already");
  }
  std::filesystem::create_directories(dir / kStoreDir, ec);
  if (ec) return make_error(ErrorCode::storage, dir.string() + ": " + ec.message());
  Status ready = identity::sodium_ready();
  if (!ready) return ready.error();
  identity::KeyPair keys = identity::generate_key_pair();
  Status wrote_keys = identity::write_key_pair(dir, kKeyName, keys);
  if (!wrote_keys) return wrote_keys.error();

  Status wrote = write_settings(dir, uai.value(), keys.public_key, options);
  if (!wrote) return wrote.error();
  return open(dir);
}

Result<std::unique_ptr<Node>> Node::open(const std::filesystem::path& dir, OpenOptions options) {
  if (!std::filesystem::exists(dir / kStoreDir)) {
    return make_error(ErrorCode::not_found,
                      dir.string() + " is not a node's directory (run tutelle-node init)");
  }
  Status ready = identity::sodium_ready();
  if (!ready) return ready.error();
  std::unique_ptr<Node> node(new Node());
  auto lock = DirectoryLock::shared(dir);
  if (!lock) return lock.error();
  node->lock_ = std::move(lock.value());
  node->dir_ = dir;
  auto keys = identity::read_key_pair(dir, kKeyName);
  if (!keys) return keys.error();
  node->keys_ = keys.value();
  store::EnvironmentOptions env{options.map_size, options.durable, false, options.meta_sync};
  auto replica = store::Replica::open(dir / kStoreDir, env);
  if (!replica) return replica.error();
  node->replica_ = std::move(replica.value());

  auto txn = node->replica_->begin_read();
  if (!txn) return txn.error();
  auto establishment = node->replica_->meta(txn.value(), "establishment");
  auto role = node->replica_->meta(txn.value(), "role");
  auto hlc = node->replica_->meta(txn.value(), "hlc");
  if (!establishment || !role || !hlc) return make_error(ErrorCode::storage, "cannot read meta");
  node->establishment_ = establishment.value().value_or("");
  node->role_ = role.value().value_or("node");
  if (hlc.value()) node->clock_.restore(store::decode_u64(*hlc.value()));
  return node;
}

Result<LocalBatch> Node::begin_batch(const std::string& author, AuthorCheck check) {
  if (role_ == "partner") {
    return make_error(ErrorCode::refused, "a partner's node is read-only: it writes nothing");
  }
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  auto seq = meta_u64(writer.value(), "seq");
  if (!seq) return seq.error();
  LocalBatch batch(*this, std::move(writer.value()), author, seq.value());
  Status checking = check == AuthorCheck::none ? Status{} : batch.load_author();
  if (!checking) return checking.error();
  return batch;
}

Changeset& LocalBatch::pending_for(const std::string& scope, const std::string& type) {
  for (auto& changeset : pending_) {
    if (changeset.scope == scope && changeset.operations.front().type == type) return changeset;
  }
  Changeset changeset;
  changeset.origin = node_.keys_.public_key;
  changeset.establishment = node_.establishment_;
  changeset.seq = last_seq_ + pending_.size() + 1;
  changeset.hlc = node_.clock_.tick();
  changeset.author = author_;
  changeset.scope = scope;
  pending_.push_back(std::move(changeset));
  return pending_.back();
}

Result<std::string> LocalBatch::resolve_home(const TypeSpec& type, const RecordEdit& edit,
                                             const std::vector<Operation>& ops,
                                             const std::string& id) {
  (void)ops;
  if (edit.home) {
    Status checked = check_record_id(*edit.home);
    if (!checked) return checked.error().context("--home");
    return *edit.home;
  }
  if (is_scope_root(type.name, assigned(edit, "kind").value_or(""),
                    assigned(edit, "tutelles").has_value())) {
    return id;
  }
  for (const auto& field : type.home_from) {
    auto target = assigned(edit, field);
    if (!target) continue;
    auto loaded = writer_.load(*target);
    if (!loaded) return loaded.error();
    // A record not known here yet is taken for the root of its own scope.
    return loaded.value() ? loaded.value()->home : *target;
  }
  return establishment_id(node_.establishment_);
}

Result<std::string> LocalBatch::edit(const RecordEdit& edit) {
  auto type_found = require_type(edit.type);
  if (!type_found) return type_found.error();
  const TypeSpec& type = *type_found.value();
  auto id = record_id(type, edit, node_.clock_.last());
  if (!id) return id.error();
  auto current = writer_.load(id.value());
  if (!current) return current.error();
  const RecordState* before = current.value() ? &*current.value() : nullptr;
  if (before != nullptr && before->type != type.name) {
    return make_error(ErrorCode::conflict,
                      id.value() + " is a " + before->type + ", not a " + type.name);
  }

  std::vector<Operation> ops;
  if (edit.delete_record) {
    if (before == nullptr) return make_error(ErrorCode::not_found, id.value() + ": no such record");
    ops.push_back(
        make_op(OpKind::delete_record, type, id.value(), "", {}, conflict::all_dots(*before)));
  }
  for (const auto& field_edit : edit.fields) {
    if (field_edit.field == conflict::kMergedInto) {
      auto merge = merge_operation(type, id.value(), field_edit, before);
      if (!merge) return merge.error();
      ops.push_back(std::move(merge.value()));
      continue;
    }
    auto field_ops = field_operations(type, id.value(), field_edit, before);
    if (!field_ops) return field_ops.error();
    for (auto& op : field_ops.value()) ops.push_back(std::move(op));
  }
  if (edit.fields.empty() && !edit.delete_record) {
    return make_error(ErrorCode::invalid_argument, id.value() + ": no field to change");
  }
  if (ops.empty()) return id.value();  // every field holds the value given already

  std::string home;
  if (before != nullptr) {
    home = before->home;
    if (edit.home && *edit.home != home) {
      return make_error(ErrorCode::invalid_argument,
                        id.value() + " lives in scope " + home + ", not " + *edit.home);
    }
  } else {
    auto resolved = resolve_home(type, edit, ops, id.value());
    if (!resolved) return resolved.error();
    home = resolved.value();
  }

  RecordState record = before ? *before : RecordState{id.value(), type.name, home, {}};
  Status staged = stage_operations(type, std::move(record), std::move(ops), true);
  if (!staged) return staged.error();
  return id.value();
}

Status LocalBatch::stage_operations(const TypeSpec& type, RecordState record,
                                    std::vector<Operation> ops, bool required) {
  // Merge into a copy, check it, and only then keep the operations.
  Changeset& changeset = pending_for(record.home, type.name);
  std::size_t first = changeset.operations.size();
  for (auto& op : ops) changeset.operations.push_back(std::move(op));
  for (std::size_t i = first; i < changeset.operations.size(); ++i) {
    conflict::apply_operation(record, changeset, static_cast<std::uint32_t>(i), writer_);
  }
  bool exempt = !required || record.deleted() || conflict::merged_into(record).has_value();
  Status valid = exempt ? Status{} : check_required(type, record);
  if (valid) valid = check_author(changeset, first);
  if (!valid) {
    changeset.operations.resize(first);
    if (changeset.operations.empty()) pending_.pop_back();
    return valid.error();
  }
  writer_.stage(std::move(record));
  ++records_;
  return {};
}

Result<std::size_t> LocalBatch::merge(const std::string& survivor_id,
                                      const std::string& duplicate_id) {
  if (survivor_id == duplicate_id) {
    return make_error(ErrorCode::invalid_argument, "merge: a record is not merged into itself");
  }
  auto survivor = writer_.load(survivor_id);
  if (!survivor) return survivor.error();
  auto duplicate = writer_.load(duplicate_id);
  if (!duplicate) return duplicate.error();
  auto usable = [](const std::string& id, const std::optional<RecordState>& record) -> Status {
    if (!record) return make_error(ErrorCode::not_found, id + ": no such record");
    if (auto merged = conflict::merged_into(*record)) {
      return make_error(ErrorCode::conflict, id + " was merged into " + *merged + " already");
    }
    if (find_type(record->type) == nullptr) {
      return make_error(ErrorCode::invalid_argument, id + " is of no known type");
    }
    return {};
  };
  Status survivor_usable = usable(survivor_id, survivor.value());
  if (!survivor_usable) return survivor_usable.error();
  Status duplicate_usable = usable(duplicate_id, duplicate.value());
  if (!duplicate_usable) return duplicate_usable.error();
  if (survivor.value()->type != duplicate.value()->type) {
    return make_error(ErrorCode::conflict, "merge: " + survivor_id + " is a " +
                                               survivor.value()->type + ", " + duplicate_id +
                                               " a " + duplicate.value()->type);
  }

  const TypeSpec& type = *find_type(survivor.value()->type);
  auto copies = folded_values(type, *survivor.value(), *duplicate.value());
  std::size_t count = copies.size() + 1;
  if (!copies.empty()) {
    Status folded = stage_operations(type, *survivor.value(), std::move(copies), true);
    if (!folded) return folded.error();
  }
  std::vector<Operation> merge;
  merge.push_back(make_op(OpKind::merge, type, duplicate_id, "", Value{survivor_id},
                          conflict::all_dots(*duplicate.value())));
  Status merged = stage_operations(type, *duplicate.value(), std::move(merge), false);
  if (!merged) return merged.error();
  return count;
}

std::size_t LocalBatch::operations() const {
  std::size_t count = 0;
  for (const auto& changeset : pending_) count += changeset.operations.size();
  return count;
}

Result<BatchSummary> LocalBatch::commit() {
  BatchSummary summary;
  summary.records = records_;
  if (pending_.empty()) return summary;
  auto prev = writer_.meta("prev");
  if (!prev) return prev.error();
  HashBytes last{};
  if (prev.value() && prev.value()->size() == last.size()) {
    std::copy(prev.value()->begin(), prev.value()->end(), last.begin());
  }

  for (auto& changeset : pending_) {
    changeset.prev = last;
    auto [signed_bytes, hash] = identity::sign_changeset(node_.keys_, changeset);
    last = hash;
    Status logged = writer_.log_applied(changeset, signed_bytes, last, true);
    if (!logged) return logged.error();
    summary.operations += changeset.operations.size();
    summary.seqs.push_back(changeset.seq);
  }

  for (const auto& [name, value] :
       {std::pair<std::string, std::string>{"seq", store::encode_u64(pending_.back().seq)},
        {"prev", std::string(reinterpret_cast<const char*>(last.data()), last.size())},
        {"hlc", store::encode_u64(node_.clock_.last())}}) {
    Status set = writer_.set_meta(name, value);
    if (!set) return set.error();
  }
  Status committed = writer_.commit();
  if (!committed) return committed.error();
  pending_.clear();
  Status notified = notify_outbox(node_.dir_);
  if (!notified) {
    log::warning("node", "a serving node may push this late: " + notified.error().message);
  }
  return summary;
}

}  // namespace tutelle::node
