// The data commands of tutelle-node: creating a node, editing, reading and importing records.

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <iostream>

#include "conflict/hlc.hpp"
#include "conflict/merge.hpp"
#include "node/commands.hpp"
#include "node/import.hpp"
#include "store/views.hpp"

namespace tutelle::node {

namespace {

using nlohmann::json;
using store::export_records;
using store::state_digest;
using store::View;

constexpr const char* kTool = "tutelle-node";

int run_init(const std::vector<std::string>& words) {
  auto args = parse(words, {"establishment", "name", "partner", "steward"});
  if (!args) return fail(kTool, args.error());
  // A partner's node belongs to no establishment.
  auto uai =
      args->has("partner") ? Result<std::string>(std::string()) : args->require("establishment");
  if (!uai) return fail(kTool, uai.error());
  InitOptions options{uai.value(), args->get("name").value_or(""), args->has("partner"),
                      args->get("partner").value_or("")};
  auto node = Node::create(*args->get("dir"), options);
  if (!node) return fail(kTool, node.error());
  if (auto steward = args->get("steward")) {
    Status set = node.value()->set_steward(*steward);
    if (!set) return fail(kTool, set.error());
  }
  return print({{"dir", *args->get("dir")},
                {"establishment", node.value()->establishment()},
                {"role", node.value()->role()},
                {"public_key", identity::to_hex(node.value()->keys().public_key)}});
}

int run_put(const std::vector<std::string>& words) {
  auto args = parse(words, {"author", "home"});
  if (!args) return fail(kTool, args.error());
  const auto& positional = args->positional();
  if (positional.empty()) {
    return fail(kTool, make_error(ErrorCode::invalid_argument, "put: TYPE is required"));
  }
  RecordEdit edit{positional[0], std::nullopt, args->get("home"), {}, false};
  for (std::size_t i = 1; i < positional.size(); ++i) {
    if (i == 1 && positional[i].find('=') == std::string::npos) {
      edit.id = positional[i];
      continue;
    }
    auto field = parse_field_edit(positional[i]);
    if (!field) return fail(kTool, field.error());
    edit.fields.push_back(field.value());
  }
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto batch =
      node.value()->begin_batch(author_of(args.value(), *node.value()), AuthorCheck::habilitations);
  if (!batch) return fail(kTool, batch.error());
  auto id = batch->edit(edit);
  if (!id) return fail(kTool, id.error());
  auto summary = batch->commit();
  if (!summary) return fail(kTool, summary.error());
  return print({{"id", id.value()}, {"operations", summary->operations}, {"seqs", summary->seqs}});
}

int run_delete(const std::vector<std::string>& words) {
  auto args = parse(words, {"author"});
  if (!args) return fail(kTool, args.error());
  if (args->positional().size() != 1) {
    return fail(kTool, make_error(ErrorCode::invalid_argument, "delete: one ID is required"));
  }
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  std::string id = args->positional()[0];
  auto txn = node.value()->replica().begin_read();
  if (!txn) return fail(kTool, txn.error());
  auto record = node.value()->replica().get(txn.value(), id);
  txn.value().abort();
  if (!record) return fail(kTool, record.error());
  if (!record.value())
    return fail(kTool, make_error(ErrorCode::not_found, id + ": no such record"));
  auto batch =
      node.value()->begin_batch(author_of(args.value(), *node.value()), AuthorCheck::habilitations);
  if (!batch) return fail(kTool, batch.error());
  auto deleted = batch->edit(RecordEdit{record.value()->type, id, std::nullopt, {}, true});
  if (!deleted) return fail(kTool, deleted.error());
  auto summary = batch->commit();
  if (!summary) return fail(kTool, summary.error());
  return print({{"deleted", id}, {"seqs", summary->seqs}});
}

int run_get(const std::vector<std::string>& words) {
  auto args = parse(words, {}, {"provenance"});
  if (!args) return fail(kTool, args.error());
  if (args->positional().size() != 1) {
    return fail(kTool, make_error(ErrorCode::invalid_argument, "get: one ID is required"));
  }
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto& replica = node.value()->replica();
  auto txn = replica.begin_read();
  if (!txn) return fail(kTool, txn.error());
  auto record = replica.get(txn.value(), args->positional()[0]);
  if (!record) return fail(kTool, record.error());
  if (!record.value()) {
    return fail(kTool,
                make_error(ErrorCode::not_found, args->positional()[0] + ": no such record"));
  }
  View view(replica, txn.value());
  // A merged duplicate leads to the record it was merged into, when this node holds it.
  if (!args->has("provenance") && conflict::merged_into(*record.value())) {
    auto survivor = replica.get(txn.value(), view.survivor(args->positional()[0]));
    if (survivor && survivor.value()) {
      json shown = view.record_json(*survivor.value());
      shown["redirected_from"] = args->positional()[0];
      return print(shown);
    }
  }
  if (!args->has("provenance")) return print(view.record_json(*record.value()));
  auto provenance = view.provenance_json(*record.value());
  if (!provenance) return fail(kTool, provenance.error());
  return print(provenance.value());
}

int run_list(const std::vector<std::string>& words) {
  auto args = parse(words, {"type", "where"});
  if (!args) return fail(kTool, args.error());
  std::string type = args->get("type").value_or("");
  if (!type.empty()) {
    auto known = require_type(type);
    if (!known) return fail(kTool, known.error());
  }
  std::vector<std::pair<std::string, std::string>> filters;
  for (const auto& where : args->all("where")) {
    auto equals = where.find('=');
    if (equals == std::string::npos || equals == 0) {
      return fail(kTool, make_error(ErrorCode::invalid_argument,
                                    "--where: '" + where + "' is not FIELD=VALUE"));
    }
    filters.emplace_back(where.substr(0, equals), where.substr(equals + 1));
  }
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto& replica = node.value()->replica();
  auto txn = replica.begin_read();
  if (!txn) return fail(kTool, txn.error());
  View view(replica, txn.value());
  Status listed = replica.for_each_record(txn.value(), type, [&](const RecordState& record) {
    json shown = view.record_json(record);
    for (const auto& [field, value] : filters) {
      if (!shown["fields"].contains(field)) return true;
      const json& held = shown["fields"][field];
      bool match =
          held.is_array()
              ? std::any_of(held.begin(), held.end(),
                            [&](const json& v) {
                              return (v.is_string() ? v.get<std::string>() : v.dump()) == value;
                            })
              : (held.is_string() ? held.get<std::string>() : held.dump()) == value;
      if (!match) return true;
    }
    std::cout << shown.dump() << "\n";
    return true;
  });
  if (!listed) return fail(kTool, listed.error());
  return 0;
}

int run_import(const std::vector<std::string>& words, bool rnsr) {
  auto args = parse(words, {"author", "batch"}, {"dry-run"});
  if (!args) return fail(kTool, args.error());
  if (args->positional().size() != 1) {
    return fail(kTool, make_error(ErrorCode::invalid_argument, "import: one FILE is required"));
  }
  // Batches sync their data but not LMDB's meta page; one full sync at the end.
  auto node = open_node(args.value(), OpenOptions{std::size_t{64} << 30, true, false});
  if (!node) return fail(kTool, node.error());
  ImportOptions options;
  options.dry_run = args->has("dry-run");
  options.author = author_of(args.value(), *node.value());
  options.progress = ::isatty(STDERR_FILENO) != 0;
  if (auto batch = args->get("batch")) {
    auto size = parse_size("batch", *batch);
    if (!size) return fail(kTool, size.error());
    options.batch_size = size.value();
  }
  auto summary = rnsr ? import_rnsr(*node.value(), args->positional()[0], options, std::cerr)
                      : import_file(*node.value(), args->positional()[0], options, std::cerr);
  Status synced = node.value()->replica().env().sync();
  if (!summary) return fail(kTool, summary.error());
  if (!synced) return fail(kTool, synced.error());
  print({{"read", summary->read},
         {"written", summary->written},
         {"refused", summary->refused},
         {"changesets", summary->changesets},
         {"dry_run", options.dry_run}});
  return summary->refused == 0 ? 0 : 3;
}

int run_export(const std::vector<std::string>& words) {
  auto args = parse(words, {});
  if (!args) return fail(kTool, args.error());
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto txn = node.value()->replica().begin_read();
  if (!txn) return fail(kTool, txn.error());
  Status exported = export_records(node.value()->replica(), txn.value(),
                                   [](const std::string& line) { std::cout << line << "\n"; });
  if (!exported) return fail(kTool, exported.error());
  return 0;
}

int run_digest(const std::vector<std::string>& words) {
  auto args = parse(words, {"scope"});
  if (!args) return fail(kTool, args.error());
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto txn = node.value()->replica().begin_read();
  if (!txn) return fail(kTool, txn.error());
  std::string scope = args->get("scope").value_or("");
  auto digest = state_digest(node.value()->replica(), txn.value(), scope);
  if (!digest) return fail(kTool, digest.error());
  return print({{"digest", digest.value()}, {"scope", scope}});
}

json changeset_json(const Changeset& changeset, const HashBytes& hash) {
  json ops = json::array();
  for (const auto& op : changeset.operations) {
    static const char* kinds[] = {"set", "add", "remove", "delete", "resolve", "merge"};
    json item = {{"op", kinds[static_cast<int>(op.kind)]}, {"record", op.record}};
    if (!op.field.empty()) item["field"] = op.field;
    if (!op.value.is_none()) item["value"] = value_text(op.value);
    if (!op.dots.empty()) item["dots"] = op.dots.size();
    ops.push_back(item);
  }
  return {{"seq", changeset.seq},
          {"hash", hex(hash)},
          {"prev", hex(changeset.prev)},
          {"hlc_ms", conflict::HybridClock::millis_of(changeset.hlc)},
          {"author", changeset.author},
          {"scope", changeset.scope},
          {"operations", ops}};
}

int run_log(const std::vector<std::string>& words) {
  auto args = parse(words, {});
  if (!args) return fail(kTool, args.error());
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto& replica = node.value()->replica();
  auto txn = replica.begin_read();
  if (!txn) return fail(kTool, txn.error());
  Status inner;
  Status scanned =
      txn->scan(replica.table("outbox"), "", [&](std::string_view, std::string_view bytes) {
        auto envelope = decode_signed(bytes);
        auto body =
            envelope ? decode_changeset_body(envelope->body) : Result<Changeset>(envelope.error());
        if (!body) {
          inner = body.error();
          return false;
        }
        std::cout << changeset_json(body.value(), blake2b_256(envelope->body)).dump() << "\n";
        return true;
      });
  if (!scanned) return fail(kTool, scanned.error());
  if (!inner) return fail(kTool, inner.error());
  return 0;
}

}  // namespace

std::map<std::string, Command> data_commands() {
  return {
      {"init",
       {"init --dir DIR --establishment UAI [--name TEXT] [--partner NAME] [--steward EPPN]",
        run_init}},
      {"put",
       {"put --dir DIR TYPE [ID] FIELD=VALUE|FIELD+=V|FIELD-=V... [--author EPPN]", run_put}},
      {"get", {"get --dir DIR ID [--provenance]", run_get}},
      {"list", {"list --dir DIR [--type T] [--where FIELD=VALUE]", run_list}},
      {"delete", {"delete --dir DIR ID [--author EPPN]", run_delete}},
      {"import",
       {"import --dir DIR FILE [--dry-run] [--batch N]",
        [](const std::vector<std::string>& w) { return run_import(w, false); }}},
      {"import-rnsr",
       {"import-rnsr --dir DIR FILE [--dry-run]",
        [](const std::vector<std::string>& w) { return run_import(w, true); }}},
      {"export", {"export --dir DIR", run_export}},
      {"digest", {"digest --dir DIR [--scope S]", run_digest}},
      {"log", {"log --dir DIR", run_log}},
  };
}

}  // namespace tutelle::node
