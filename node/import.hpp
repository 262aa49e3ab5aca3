#pragma once
// Bulk import of records from JSON Lines or CSV, and of structures from the RNSR format.
//
// JSON Lines: one object a line, {"type": T, "id"?: ID, "home"?: SCOPE, FIELD: VALUE…}, a set
// field's value an array (it replaces the set). The lines `tutelle-node export` writes.
// CSV: a header row `type,id,home,FIELD,…`; a set field's elements separated by '|'; an empty
// cell leaves the field alone.
//
// Lines are written in batches, one write transaction each. A line that fails is reported with
// its number and reason and leaves nothing of itself; the others go on.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iosfwd>
#include <string>

#include "node/node.hpp"

namespace tutelle::node {

struct ImportOptions {
  bool dry_run = false;           // check every line, write nothing
  std::size_t batch_size = 1000;  // lines per transaction
  std::string author;
  bool progress = false;  // draw a progress bar on stderr
};

struct ImportSummary {
  std::size_t read = 0;
  std::size_t written = 0;
  std::size_t refused = 0;
  std::size_t changesets = 0;
};

// Imports `file` (CSV when its name ends in .csv), reporting refused lines to `report`.
Result<ImportSummary> import_file(Node& node, const std::filesystem::path& file,
                                  const ImportOptions& options, std::ostream& report);

// A record edit from one JSON object.
Result<RecordEdit> edit_from_json(const nlohmann::json& object);

// Imports the structures of an RNSR export (a JSON array, as scanR publishes it): each
// structure with its identifiers, level, parents and tutelles; each tutelle as an establishment
// record (by UAI when the institution's code gives one, else by SIRET).
Result<ImportSummary> import_rnsr(Node& node, const std::filesystem::path& file,
                                  const ImportOptions& options, std::ostream& report);

}  // namespace tutelle::node
