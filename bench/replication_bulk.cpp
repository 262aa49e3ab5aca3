#include "bench/replication_bulk.hpp"

#include <cstdint>
#include <fstream>
#include <string>

#include "bench/generated_records.hpp"
#include "store/lmdb.hpp"

#ifndef TUTELLE_NODE_BINARY
#error "TUTELLE_NODE_BINARY comes from bench/CMakeLists.txt"
#endif

namespace tutelle::bench {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Writes `count` generated records (about 60% projects, 40% people, all homed in A's
// establishment: projects name units A does not hold) as JSON Lines.
Status write_bulk_file(const fs::path& path, std::size_t count) {
  std::ofstream out(path, std::ios::binary);
  RecordGenerator generator(20260101, 0);
  for (std::size_t i = 0; i < count && out; ++i) {
    std::string line = generator.next().line;
    line.insert(line.size() - 1, std::string(",\"home\":\"uai:") + kUaiA + "\"");
    out << line << '\n';
  }
  out.close();
  if (!out) return make_error(ErrorCode::storage, path.string() + ": cannot write");
  return {};
}

// A's last own seq, read from its outbox.
Result<std::uint64_t> last_own_seq(const fs::path& a_dir) {
  auto env = store::Environment::open(a_dir / "store", {"outbox"},
                                      {map_size_for(kMaxChangesets), true, true});
  if (!env) return env.error();
  auto txn = env.value()->begin_read();
  if (!txn) return txn.error();
  auto last = txn->last_key(env.value()->table("outbox"), "");
  if (!last) return last.error();
  return last.value() ? store::decode_u64(*last.value()) : 0;
}

}  // namespace

Result<BulkFigures> bulk(const Federation& f, std::size_t count) {
  BulkFigures figures;
  figures.records = count;
  fs::path file = f.dir / "bulk.jsonl";
  Status written = write_bulk_file(file, count);
  if (!written) return written.error();
  auto imported = run_child({TUTELLE_NODE_BINARY, "import", "--dir", f.a_dir.string(),
                             file.string(), "--author", kAuthor},
                            f.dir / "import.out", f.dir / "import.err");
  if (!imported) return imported.error();
  figures.import = imported.value();
  std::string out = file_head(f.dir / "import.out");
  json summary = first_line_json(out);
  if (figures.import.exit_code != 0 || summary.is_discarded() ||
      summary.value("written", std::size_t{0}) != count) {
    return make_error(ErrorCode::internal, "A's import: " + out + file_head(f.dir / "import.err"));
  }
  figures.changesets = summary.value("changesets", std::size_t{0});
  auto last = last_own_seq(f.a_dir);
  if (!last) return last.error();

  auto pushed = push(f, Filled{last.value(), 0}, figures.changesets);
  if (!pushed) return pushed.error();
  figures.push = std::move(pushed.value());
  auto pulled = pull(f, figures.changesets);
  if (!pulled) return pulled.error();
  figures.pull = std::move(pulled.value());
  auto converged = same_digests(f);
  if (!converged) return converged.error();
  figures.converged = converged.value();
  return figures;
}

}  // namespace tutelle::bench
