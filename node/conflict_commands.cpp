// The commands of tutelle-node for conflicts and duplicates: conflicts, resolve, duplicates,
// merge, compact.

#include <iostream>

#include "conflict/merge.hpp"
#include "node/commands.hpp"
#include "node/node.hpp"
#include "store/maintenance.hpp"
#include "store/views.hpp"

namespace tutelle::node {

namespace {

using nlohmann::json;

constexpr const char* kTool = "tutelle-node";

// The words of a command that takes `positional` arguments besides its options.
Result<Args> parse_with(const std::vector<std::string>& words, const std::set<std::string>& options,
                        std::size_t positional) {
  auto args = parse(words, options);
  if (!args) return args.error();
  if (args->positional().size() != positional) {
    return make_error(ErrorCode::invalid_argument, "expected " + std::to_string(positional) +
                                                       " arguments, not " +
                                                       std::to_string(args->positional().size()));
  }
  return args;
}

Result<RecordState> existing(Node& node, const std::string& id) {
  auto txn = node.replica().begin_read();
  if (!txn) return txn.error();
  auto record = node.replica().get(txn.value(), id);
  if (!record) return record.error();
  if (!record.value()) return make_error(ErrorCode::not_found, id + ": no such record");
  return std::move(*record.value());
}

// Whether this node's establishment may write in `scope`: its own, or a unit it is a tutelle
// of (the hub's rule, checked here so that a refused merge is refused at once).
Status may_write(Node& node, const std::string& scope) {
  std::string own = establishment_id(node.establishment());
  if (scope == own) return {};
  auto root = existing(node, scope);
  const FieldState* tutelles = root ? root->field("tutelles") : nullptr;
  for (const auto& tutelle : tutelles ? conflict::set_values(*tutelles) : std::vector<Value>{}) {
    std::string id = value_text(tutelle);
    if (id == own) return {};
    auto named = id.rfind("uai:", 0) == 0 ? Result<RecordState>(RecordState{}) : existing(node, id);
    const FieldState* uai = named ? named->field("uai") : nullptr;
    if (uai != nullptr && !conflict::element_dots(uai, Value{node.establishment()}).empty()) {
      return {};
    }
  }
  return make_error(ErrorCode::refused, "establishment " + node.establishment() +
                                            " may not write in scope " + scope +
                                            ": it is not among its tutelles");
}

int run_conflicts(const std::vector<std::string>& words) {
  auto args = parse_with(words, {"scope"}, 0);
  if (!args) return fail(kTool, args.error());
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  Status listed =
      store::write_conflicts(node.value()->replica(), std::cout, args->get("scope").value_or(""));
  return listed ? 0 : fail(kTool, listed.error());
}

int run_resolve(const std::vector<std::string>& words) {
  auto args = parse_with(words, {"author"}, 3);
  if (!args) return fail(kTool, args.error());
  const auto& id = args->positional()[0];
  const auto& field = args->positional()[1];
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto record = existing(*node.value(), id);
  if (!record) return fail(kTool, record.error());
  const FieldState* held = record->field(field);
  if (held == nullptr || !conflict::is_conflict(record->type, *held)) {
    return fail(kTool, make_error(ErrorCode::invalid_argument,
                                  id + "." + field + " holds no conflict (use put to change it)"));
  }
  auto batch =
      node.value()->begin_batch(author_of(args.value(), *node.value()), AuthorCheck::habilitations);
  if (!batch) return fail(kTool, batch.error());
  FieldEdit resolution{field, FieldEdit::Mode::resolve, {args->positional()[2]}};
  auto edited = batch->edit(RecordEdit{record->type, id, std::nullopt, {resolution}, false});
  if (!edited) return fail(kTool, edited.error());
  auto summary = batch->commit();
  if (!summary) return fail(kTool, summary.error());
  return print({{"id", id},
                {"field", field},
                {"superseded", held->entries.size()},
                {"seqs", summary->seqs}});
}

int run_duplicates(const std::vector<std::string>& words) {
  auto args = parse_with(words, {"scope"}, 0);
  if (!args) return fail(kTool, args.error());
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  Status listed =
      store::write_duplicates(node.value()->replica(), std::cout, args->get("scope").value_or(""));
  return listed ? 0 : fail(kTool, listed.error());
}

int run_merge(const std::vector<std::string>& words) {
  auto args = parse_with(words, {"author"}, 2);
  if (!args) return fail(kTool, args.error());
  const auto& survivor = args->positional()[0];
  const auto& duplicate = args->positional()[1];
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  for (const auto& id : {survivor, duplicate}) {
    auto record = existing(*node.value(), id);
    if (!record) return fail(kTool, record.error());
    Status writable = may_write(*node.value(), record->home);
    if (!writable) return fail(kTool, writable.error().context("merge " + id));
  }
  auto batch =
      node.value()->begin_batch(author_of(args.value(), *node.value()), AuthorCheck::habilitations);
  if (!batch) return fail(kTool, batch.error());
  auto merged = batch->merge(survivor, duplicate);
  if (!merged) return fail(kTool, merged.error());
  auto summary = batch->commit();
  if (!summary) return fail(kTool, summary.error());
  return print({{"survivor", survivor},
                {"duplicate", duplicate},
                {"operations", merged.value()},
                {"seqs", summary->seqs}});
}

int run_compact(const std::vector<std::string>& words) {
  auto args = parse_with(words, {}, 0);
  if (!args) return fail(kTool, args.error());
  auto node = open_node(args.value());
  if (!node) return fail(kTool, node.error());
  auto compacted = store::compact(node.value()->replica());
  if (!compacted) return fail(kTool, compacted.error());
  return print({{"tombstones_dropped", compacted->dropped}, {"tombstones_left", compacted->left}});
}

}  // namespace

std::map<std::string, Command> conflict_commands() {
  return {
      {"conflicts", {"conflicts --dir DIR [--scope S]", run_conflicts}},
      {"resolve", {"resolve --dir DIR ID FIELD VALUE [--author EPPN]", run_resolve}},
      {"duplicates", {"duplicates --dir DIR [--scope S]", run_duplicates}},
      {"merge", {"merge --dir DIR SURVIVOR DUPLICATE [--author EPPN]", run_merge}},
      {"compact", {"compact --dir DIR", run_compact}},
  };
}

}  // namespace tutelle::node
