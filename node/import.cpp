#include "node/import.hpp"

#include <unistd.h>

#include <fstream>
#include <iostream>

namespace tutelle::node {

namespace {

using nlohmann::json;

Error line_error(std::size_t line, const std::string& what) {
  return make_error(ErrorCode::invalid_argument, "line " + std::to_string(line) + ": " + what);
}

Result<std::string> scalar_text(const std::string& field, const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_float()) return value.dump();
  if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
  return make_error(ErrorCode::invalid_argument,
                    field + ": a " + std::string(value.type_name()) + " is not a field value");
}

// Splits one CSV record (RFC 4180 quoting) into cells.
Result<std::vector<std::string>> csv_cells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back().push_back(c);
    }
  }
  if (quoted) return make_error(ErrorCode::invalid_argument, "an unterminated quoted cell");
  return cells;
}

Result<RecordEdit> edit_from_csv(const std::vector<std::string>& header,
                                 const std::vector<std::string>& cells) {
  if (cells.size() != header.size()) {
    return make_error(
        ErrorCode::invalid_argument,
        std::to_string(cells.size()) + " cells, the header has " + std::to_string(header.size()));
  }
  json object = json::object();
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (cells[i].empty()) continue;
    const TypeSpec* type = nullptr;
    if (object.contains("type")) type = find_type(object["type"].get<std::string>());
    const FieldSpec* spec = type ? type->field(header[i]) : nullptr;
    if (spec != nullptr && spec->is_set()) {
      json elements = json::array();
      std::size_t start = 0;
      for (std::size_t bar; (bar = cells[i].find('|', start)) != std::string::npos;
           start = bar + 1) {
        elements.push_back(cells[i].substr(start, bar - start));
      }
      elements.push_back(cells[i].substr(start));
      object[header[i]] = elements;
    } else {
      object[header[i]] = cells[i];
    }
  }
  return edit_from_json(object);
}

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::uintmax_t total) : enabled_(enabled), total_(total) {}
  void update(std::uintmax_t done, std::size_t lines) {
    if (!enabled_ || total_ == 0 || lines % 1000 != 0) return;
    int percent = static_cast<int>(done * 100 / total_);
    std::string bar(static_cast<std::size_t>(percent / 5), '#');
    std::cerr << "\rimport [" << bar << std::string(20 - bar.size(), ' ') << "] " << percent << "% "
              << lines << " lines" << std::flush;
  }
  void finish() {
    if (enabled_) std::cerr << "\r" << std::string(60, ' ') << "\r" << std::flush;
  }

 private:
  bool enabled_;
  std::uintmax_t total_;
};

// Feeds edits into batches of `batch_size`, committing each unless it is a dry run.
class BatchWriter {
 public:
  BatchWriter(Node& node, const ImportOptions& options, ImportSummary& summary)
      : node_(node), options_(options), summary_(summary) {}

  Status add(std::size_t line, Result<RecordEdit> edit, std::ostream& report) {
    ++summary_.read;
    if (!batch_) {
      auto batch = node_.begin_batch(options_.author);
      if (!batch) return batch.error();
      batch_.emplace(std::move(batch.value()));
      in_batch_ = 0;
    }
    auto staged = edit ? batch_->edit(edit.value()) : Result<std::string>(edit.error());
    if (!staged) {
      report << line_error(line, staged.error().message).message << "\n";
      ++summary_.refused;
    } else {
      ++in_batch_;
    }
    last_line_ = line;
    if (in_batch_ >= options_.batch_size) return flush();
    return {};
  }

  Status flush() {
    if (!batch_) return {};
    if (options_.dry_run) {
      summary_.written += in_batch_;
    } else {
      auto committed = batch_->commit();
      if (!committed) {
        std::string where =
            committed_line_ == 0
                ? "nothing was imported"
                : "lines up to " + std::to_string(committed_line_) + " are imported, none after";
        return committed.error().context("import stopped at line " + std::to_string(last_line_) +
                                         " (" + where + ")");
      }
      committed_line_ = last_line_;
      summary_.written += in_batch_;
      summary_.changesets += committed->seqs.size();
    }
    batch_.reset();
    in_batch_ = 0;
    return {};
  }

 private:
  Node& node_;
  const ImportOptions& options_;
  ImportSummary& summary_;
  std::optional<LocalBatch> batch_;
  std::size_t in_batch_ = 0;
  std::size_t last_line_ = 0;       // the last line handed to the batch
  std::size_t committed_line_ = 0;  // the last line of the last committed batch
};

}  // namespace

Result<RecordEdit> edit_from_json(const json& object) {
  if (!object.is_object()) return make_error(ErrorCode::invalid_argument, "not a JSON object");
  RecordEdit edit;
  for (const auto& [key, value] : object.items()) {
    if (key == "type" || key == "id" || key == "home") {
      if (!value.is_string()) {
        return make_error(ErrorCode::invalid_argument, key + ": must be a string");
      }
      std::string text = value.get<std::string>();
      if (key == "type") edit.type = text;
      if (key == "id") edit.id = text;
      if (key == "home") edit.home = text;
      continue;
    }
    FieldEdit field{key, FieldEdit::Mode::assign, {}};
    if (value.is_null()) {
      field.mode = FieldEdit::Mode::clear;
    } else if (value.is_array()) {
      for (const auto& element : value) {
        auto text = scalar_text(key, element);
        if (!text) return text.error();
        field.values.push_back(text.value());
      }
      if (field.values.empty()) field.mode = FieldEdit::Mode::clear;
    } else {
      auto text = scalar_text(key, value);
      if (!text) return text.error();
      field.values.push_back(text.value());
    }
    edit.fields.push_back(std::move(field));
  }
  if (edit.type.empty()) return make_error(ErrorCode::invalid_argument, "type: missing");
  return edit;
}

Result<ImportSummary> import_file(Node& node, const std::filesystem::path& file,
                                  const ImportOptions& options, std::ostream& report) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::not_found, file.string() + ": cannot read");
  std::error_code ec;
  ProgressBar progress(options.progress, std::filesystem::file_size(file, ec));
  bool csv = file.extension() == ".csv";
  ImportSummary summary;
  BatchWriter writer(node, options, summary);

  std::vector<std::string> header;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    if (csv && header.empty()) {
      auto cells = csv_cells(line);
      if (!cells) return cells.error().context(file.string() + ": header");
      header = cells.value();
      continue;
    }
    Result<RecordEdit> edit = make_error(ErrorCode::internal, "unparsed");
    if (csv) {
      auto cells = csv_cells(line);
      edit = cells ? edit_from_csv(header, cells.value()) : Result<RecordEdit>(cells.error());
    } else {
      json object = json::parse(line, nullptr, false);
      edit = object.is_discarded()
                 ? Result<RecordEdit>(make_error(ErrorCode::invalid_argument, "not valid JSON"))
                 : edit_from_json(object);
    }
    Status added = writer.add(number, std::move(edit), report);
    if (!added) return added.error();
    progress.update(static_cast<std::uintmax_t>(in.tellg()), summary.read);
  }
  progress.finish();
  Status flushed = writer.flush();
  if (!flushed) return flushed.error();
  return summary;
}

}  // namespace tutelle::node
