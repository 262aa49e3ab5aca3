#include "hub/hub.hpp"

#include <nlohmann/json.hpp>

#include <cstring>

#include "conflict/merge.hpp"
#include "net/tls.hpp"

namespace tutelle::hub {

namespace {

using nlohmann::json;

const std::vector<std::string>& hub_tables() {
  static const std::vector<std::string> names = {"hub_log", "scope_log", "heads",
                                                 "nodes",   "shares",    "purges"};
  return names;
}

json node_json(const NodeInfo& info) {
  return {{"key", info.key},
          {"establishment", info.establishment},
          {"role", info.role},
          {"revoked", info.revoked},
          {"quarantined", info.quarantined},
          {"why", info.why},
          {"last_seen_ms", info.last_seen_ms},
          {"last_seq", info.last_seq},
          {"steward", info.steward}};
}

NodeInfo node_from_json(const json& j) {
  NodeInfo info;
  info.key = j.value("key", "");
  info.establishment = j.value("establishment", "");
  info.role = j.value("role", "node");
  info.revoked = j.value("revoked", false);
  info.quarantined = j.value("quarantined", false);
  info.why = j.value("why", "");
  info.last_seen_ms = j.value("last_seen_ms", std::uint64_t{0});
  info.last_seq = j.value("last_seq", std::uint64_t{0});
  info.steward = j.value("steward", "steward@" + info.establishment);
  return info;
}

std::string shown_text(const FieldState* field) {
  if (field == nullptr || field->entries.empty()) return "";
  return value_text(conflict::shown(*field, "").value);
}

store::EnvironmentOptions hub_env() {
  // Commits skip fsync: a killed hub loses nothing (the page cache survives the process), and
  // after a machine crash the nodes resend from the head the hub reports.
  return store::EnvironmentOptions{std::size_t{64} << 30, false, false};
}

}  // namespace

const char* to_string(PushResult result) {
  switch (result) {
    case PushResult::accepted: return "accepted";
    case PushResult::duplicate: return "duplicate";
    case PushResult::refused: return "refused";
    case PushResult::gap: return "gap";
    case PushResult::fork: return "fork";
  }
  return "unknown";
}

Result<std::unique_ptr<Hub>> Hub::create(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir / "store", ec)) {
    return make_error(ErrorCode::conflict, dir.string() + " holds a hub already");
  }
  std::filesystem::create_directories(dir / "store", ec);
  std::filesystem::create_directories(dir / "tls", ec);
  if (ec) return make_error(ErrorCode::storage, dir.string() + ": " + ec.message());
  Status ready = identity::sodium_ready();
  if (!ready) return ready.error();
  Status keys = identity::write_key_pair(dir, "hub", identity::generate_key_pair());
  if (!keys) return keys.error();
  auto tls = net::generate_tls_identity(dir / "tls", "hub", "tutelle-hub");
  if (!tls) return tls.error();
  return open(dir);
}

Result<std::unique_ptr<Hub>> Hub::open(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "store")) {
    return make_error(ErrorCode::not_found,
                      dir.string() + " is not a hub's directory (run tutelle-hub init)");
  }
  Status ready = identity::sodium_ready();
  if (!ready) return ready.error();
  std::unique_ptr<Hub> hub(new Hub());
  hub->dir_ = dir;
  auto keys = identity::read_key_pair(dir, "hub");
  if (!keys) return keys.error();
  hub->keys_ = keys.value();
  auto fingerprint =
      net::certificate_fingerprint(net::tls_identity_files(dir / "tls", "hub").certificate);
  if (!fingerprint) return fingerprint.error();
  hub->fingerprint_ = fingerprint.value();
  auto replica = store::Replica::open(dir / "store", hub_env(), hub_tables());
  if (!replica) return replica.error();
  hub->replica_ = std::move(replica.value());
  Status scopes = hub->load_scopes();
  if (!scopes) return scopes.error();
  return hub;
}

Status Hub::load_scopes() {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  Status scanned =
      txn->scan(replica_->table("scope_log"), "", [&](std::string_view key, std::string_view) {
        scopes_.insert(std::string(key.substr(0, key.find('\0'))));
        return true;
      });
  if (!scanned) return scanned;
  for (const auto& scope : scopes_) refresh_scope(txn.value(), scope);
  return {};
}

void Hub::refresh_scope(const store::Txn& txn, const std::string& scope) {
  std::set<std::string> uais;
  auto record = replica_->get(txn, scope);
  const FieldState* tutelles =
      record && record.value() ? record.value()->field("tutelles") : nullptr;
  if (tutelles != nullptr) {
    for (const auto& value : conflict::set_values(*tutelles)) {
      std::string id = value_text(value);
      if (id.rfind("uai:", 0) == 0) {
        uais.insert(id.substr(4));
        continue;
      }
      auto tutelle = replica_->get(txn, id);
      if (tutelle && tutelle.value()) {
        std::string uai = shown_text(tutelle.value()->field("uai"));
        if (!uai.empty()) uais.insert(uai);
      }
    }
  }
  tutelles_[scope] = std::move(uais);
}

std::set<std::string> Hub::readable_scopes(const std::string& reader) const {
  std::set<std::string> readable;
  if (is_partner(reader)) {
    std::string partner = reader.substr(8);
    auto txn = replica_->begin_read();
    if (!txn) return readable;
    (void)txn->scan(replica_->table("shares"), "", [&](std::string_view key, std::string_view) {
      auto zero = key.find('\0');
      if (key.substr(zero + 1) == partner) readable.insert(std::string(key.substr(0, zero)));
      return true;
    });
    return readable;
  }
  readable.insert("uai:" + reader);
  for (const auto& scope : scopes_) {
    if (scope.rfind("uai:", 0) == 0) readable.insert(scope);
  }
  for (const auto& [scope, uais] : tutelles_) {
    if (uais.count(reader) > 0) readable.insert(scope);
  }
  return readable;
}

bool Hub::may_read(const std::string& reader, const Changeset& changeset) const {
  if (readable_scopes(reader).count(changeset.scope) == 0) return false;
  if (!is_partner(reader)) return true;
  auto txn = replica_->begin_read();
  if (!txn) return false;
  auto share = txn->get(replica_->table("shares"), changeset.scope + '\0' + reader.substr(8));
  if (!share || !share.value()) return false;
  json parsed = json::parse(*share.value(), nullptr, false);
  if (parsed.is_discarded()) return false;
  std::set<std::string> types;
  for (const auto& type : parsed.value("types", json::array()))
    types.insert(type.get<std::string>());
  if (types.empty()) return true;
  for (const auto& op : changeset.operations) {
    if (types.count(op.type) == 0) return false;
  }
  return true;
}

Status Hub::share(const std::string& scope, const std::string& partner,
                  const std::vector<std::string>& types) {
  Status id = check_record_id(scope);
  if (!id) return id.error().context("--scope");
  for (const auto& type : types) {
    auto known = require_type(type);
    if (!known) return known.error().context("--types");
  }
  if (partner.empty()) return make_error(ErrorCode::invalid_argument, "--partner is required");
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  Status put = writer->txn().put(replica_->table("shares"), scope + '\0' + partner,
                                 json{{"types", types}}.dump());
  if (!put) return put;
  return writer->commit();
}

Status Hub::unshare(const std::string& scope, const std::string& partner) {
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  auto erased = writer->txn().erase(replica_->table("shares"), scope + '\0' + partner);
  if (!erased) return erased.error();
  if (!erased.value()) {
    return make_error(ErrorCode::not_found, "scope " + scope + " is not shared with " + partner);
  }
  return writer->commit();
}

Status Hub::record_purge(const identity::PublicKey& key, const std::string& scope) {
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  Status put = writer->txn().put(replica_->table("purges"), store::origin_bytes(key) + scope,
                                 store::encode_u64(conflict::system_millis()));
  if (!put) return put;
  return writer->commit();
}

Result<bool> Hub::has_purged(const identity::PublicKey& key, const std::string& scope) {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  auto found = txn->get(replica_->table("purges"), store::origin_bytes(key) + scope);
  if (!found) return found.error();
  return found.value().has_value();
}

Result<std::vector<std::tuple<std::string, std::string, std::uint64_t>>> Hub::purges() {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  std::vector<std::tuple<std::string, std::string, std::uint64_t>> out;
  Status scanned =
      txn->scan(replica_->table("purges"), "", [&](std::string_view key, std::string_view value) {
        out.emplace_back(hex(reinterpret_cast<const std::uint8_t*>(key.data()), 32),
                         std::string(key.substr(32)), store::decode_u64(value));
        return true;
      });
  if (!scanned) return scanned.error();
  return out;
}

bool Hub::may_write(const std::string& establishment, const Changeset& changeset) const {
  if (changeset.scope == "uai:" + establishment) return true;
  auto known = tutelles_.find(changeset.scope);
  if (known != tutelles_.end() && !known->second.empty()) {
    return known->second.count(establishment) > 0;
  }
  // A scope root not known yet: its creator must name itself among its tutelles.
  for (const auto& op : changeset.operations) {
    if (op.record == changeset.scope && op.field == "tutelles" && op.kind == OpKind::add &&
        value_text(op.value) == "uai:" + establishment) {
      return true;
    }
  }
  return false;
}

Result<std::optional<NodeInfo>> Hub::node_info(const store::Txn& txn,
                                               const identity::PublicKey& key) {
  auto bytes = txn.get(replica_->table("nodes"), store::origin_bytes(key));
  if (!bytes) return bytes.error();
  if (!bytes.value()) return std::optional<NodeInfo>();
  json parsed = json::parse(*bytes.value(), nullptr, false);
  if (parsed.is_discarded()) return make_error(ErrorCode::corrupt, "nodes table entry");
  return std::optional<NodeInfo>(node_from_json(parsed));
}

Status Hub::put_node(store::Writer& writer, const identity::PublicKey& key, const NodeInfo& info) {
  return writer.txn().put(replica_->table("nodes"), store::origin_bytes(key),
                          node_json(info).dump());
}

Status Hub::enroll(const std::string& reader, const identity::PublicKey& key,
                   const std::string& role, const std::string& steward) {
  auto valid = is_partner(reader)
                   ? Result<std::string>(reader)
                   : validate_identifier(IdentifierKind::uai, "--establishment", reader);
  if (!valid) return valid.error();
  if (is_partner(reader) && reader.size() == 8) {
    return make_error(ErrorCode::invalid_argument, "--partner: a name is required");
  }
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  auto existing = node_info(writer->txn(), key);
  if (!existing) return existing.error();
  NodeInfo info = existing.value().value_or(NodeInfo{});
  if (existing.value() && !info.revoked && info.establishment != valid.value()) {
    return make_error(ErrorCode::conflict,
                      "key " + identity::to_hex(key) + " is enrolled for " + info.establishment);
  }
  info.key = identity::to_hex(key);
  info.establishment = valid.value();
  info.role = role;
  info.revoked = false;
  info.steward = steward.empty() ? "steward@" + info.establishment : steward;
  Status put = put_node(writer.value(), key, info);
  if (!put) return put;
  return writer->commit();
}

Status Hub::revoke(const identity::PublicKey& key) {
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  auto existing = node_info(writer->txn(), key);
  if (!existing) return existing.error();
  if (!existing.value()) {
    return make_error(ErrorCode::not_found, "key " + identity::to_hex(key) + " is not enrolled");
  }
  existing.value()->revoked = true;
  Status put = put_node(writer.value(), key, *existing.value());
  if (!put) return put;
  return writer->commit();
}

Result<std::vector<NodeInfo>> Hub::nodes() {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  std::vector<NodeInfo> all;
  Status scanned =
      txn->scan(replica_->table("nodes"), "", [&](std::string_view, std::string_view bytes) {
        json parsed = json::parse(bytes, nullptr, false);
        if (!parsed.is_discarded()) all.push_back(node_from_json(parsed));
        return true;
      });
  if (!scanned) return scanned.error();
  return all;
}

Result<std::string> Hub::enrolled(const identity::PublicKey& key) {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  auto info = node_info(txn.value(), key);
  if (!info) return info.error();
  std::string hex_key = identity::to_hex(key);
  if (!info.value()) return make_error(ErrorCode::refused, "key " + hex_key + " is not enrolled");
  if (info.value()->revoked)
    return make_error(ErrorCode::refused, "key " + hex_key + " is revoked");
  if (info.value()->quarantined) {
    return make_error(ErrorCode::refused,
                      "key " + hex_key + " is quarantined: " + info.value()->why);
  }
  return info.value()->establishment;
}

Status Hub::touch(const identity::PublicKey& key) {
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  auto info = node_info(writer->txn(), key);
  if (!info) return info.error();
  if (!info.value()) return {};
  info.value()->last_seen_ms = conflict::system_millis();
  Status put = put_node(writer.value(), key, *info.value());
  if (!put) return put;
  return writer->commit();
}

Result<std::uint64_t> Hub::head_seq(const KeyBytes& origin) {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  auto head = txn->get(replica_->table("heads"), store::origin_bytes(origin));
  if (!head) return head.error();
  return head.value() ? store::decode_u64(*head.value()) : 0;
}

Result<std::uint64_t> Hub::last_hub_seq() {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  auto last = txn->last_key(replica_->table("hub_log"), "");
  if (!last) return last.error();
  return last.value() ? store::decode_u64(*last.value()) : 0;
}

Status Hub::scan_scope(const std::string& scope, std::uint64_t after,
                       const std::function<bool(std::uint64_t, const std::string&)>& visit) {
  auto txn = replica_->begin_read();
  if (!txn) return txn.error();
  std::string prefix = scope + '\0';
  Status inner;
  Status scanned =
      txn->scan(replica_->table("scope_log"), prefix, [&](std::string_view key, std::string_view) {
        std::uint64_t hub_seq = store::decode_u64(key.substr(prefix.size()));
        if (hub_seq <= after) return true;
        auto entry = txn->get(replica_->table("hub_log"), store::encode_u64(hub_seq));
        if (!entry || !entry.value()) {
          inner = make_error(ErrorCode::corrupt, "scope_log names hub seq " +
                                                     std::to_string(hub_seq) + " not in hub_log");
          return false;
        }
        auto bytes = txn->get(replica_->table("changesets"), *entry.value());
        if (!bytes || !bytes.value()) {
          inner = make_error(ErrorCode::corrupt, "hub_log names a changeset not stored");
          return false;
        }
        return visit(hub_seq, std::string(*bytes.value()));
      });
  if (!scanned) return scanned;
  return inner;
}

}  // namespace tutelle::hub
