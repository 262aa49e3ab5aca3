// import-rnsr: the structures of the national directory, in the form scanR publishes them
// (see ../shared/fixtures/rnsr/structures.json). Known traps of that data: a structure's
// `parent` is not its tutelle; tutelles are named by SIRET and rarely by UAI; some SIRETs are
// malformed.

#include <fstream>
#include <iostream>

#include "node/import.hpp"

namespace tutelle::node {

namespace {

using nlohmann::json;

std::string text_of(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return "";
  return found->get<std::string>();
}

void assign(RecordEdit& edit, const std::string& field, const std::string& value) {
  if (!value.empty()) edit.fields.push_back(FieldEdit{field, FieldEdit::Mode::assign, {value}});
}

void assign_set(RecordEdit& edit, const std::string& field, std::vector<std::string> values) {
  if (!values.empty()) {
    edit.fields.push_back(FieldEdit{field, FieldEdit::Mode::assign, std::move(values)});
  }
}

// The establishment record of one tutelle: its id and the edit that describes it.
Result<std::pair<std::string, RecordEdit>> tutelle_edit(const json& institution) {
  RecordEdit edit{"structure", std::nullopt, std::nullopt, {}, false};
  std::string label = text_of(institution, "label");
  std::string siret = text_of(institution, "siret");
  std::string uai;
  auto code = institution.find("code");
  if (code != institution.end() && code->is_object() && text_of(*code, "type") == "UAI") {
    uai = text_of(*code, "number");
  }
  assign(edit, "kind", "establishment");
  assign(edit, "name", label.empty() ? "(unnamed establishment)" : label);
  assign(edit, "acronym", text_of(institution, "acronym"));

  if (!uai.empty()) {
    auto valid = validate_identifier(IdentifierKind::uai, "uai", uai);
    if (!valid) return valid.error();
    assign(edit, "uai", valid.value());
    edit.id = "uai:" + valid.value();
  }
  auto valid_siret = validate_identifier(IdentifierKind::siret, "siret", siret);
  if (valid_siret) {
    assign(edit, "siret", valid_siret.value());
    if (!edit.id) edit.id = "siret:" + valid_siret.value();
  } else if (!edit.id) {
    auto siren = validate_identifier(IdentifierKind::siren, "siren", text_of(institution, "id"));
    if (!siren) return valid_siret.error().context("tutelle '" + label + "'");
    edit.id = "siren:" + siren.value();
  }
  return std::make_pair(*edit.id, edit);
}

// The edits of one structure and of its tutelles; warnings for what it had to leave out.
Result<std::vector<RecordEdit>> structure_edits(const json& structure, std::ostream& report) {
  std::string rnsr = text_of(structure, "id");
  auto valid = validate_identifier(IdentifierKind::rnsr, "id", rnsr);
  if (!valid) return valid.error();
  std::string id = "rnsr:" + valid.value();
  RecordEdit unit{"structure", id, std::nullopt, {}, false};
  std::vector<RecordEdit> edits;

  int level = structure.value("level", 2);
  assign(unit, "kind", level == 1 ? "team" : level == 2 ? "unit" : "other");
  assign(unit, "name", text_of(structure, "label"));
  assign(unit, "acronym", text_of(structure, "acronym"));
  assign(unit, "rnsr", valid.value());
  if (structure.contains("creationYear") && structure["creationYear"].is_number_integer()) {
    assign(unit, "creation_year", std::to_string(structure["creationYear"].get<int>()));
  }

  std::vector<std::string> parents;
  for (const auto& parent : structure.value("parent", json::array())) {
    std::string pid = parent.is_object() ? text_of(parent, "id") : "";
    if (!pid.empty()) parents.push_back("rnsr:" + pid);
  }
  std::vector<std::string> tutelles;
  std::vector<std::string> labels;
  for (const auto& institution : structure.value("institutions", json::array())) {
    auto tutelle = tutelle_edit(institution);
    if (!tutelle) {
      report << "structure " << rnsr << ": tutelle left out: " << tutelle.error().message << "\n";
      continue;
    }
    tutelles.push_back(tutelle->first);
    edits.push_back(std::move(tutelle->second));
    auto code = institution.find("code");
    if (code != institution.end() && code->is_object() && text_of(*code, "type") != "UAI" &&
        !text_of(*code, "type").empty() && !text_of(*code, "number").empty()) {
      labels.push_back(text_of(*code, "type") + " " + text_of(*code, "number"));
    }
  }
  if (level == 1 && !parents.empty()) unit.home = parents.front();
  assign_set(unit, "parents", parents);
  assign_set(unit, "tutelles", tutelles);
  if (!tutelles.empty()) assign(unit, "lead_tutelle", tutelles.front());
  assign_set(unit, "labels", labels);

  const json& address = structure.value("address", json::object());
  if (address.is_object()) {
    assign(unit, "city", text_of(address, "city"));
    assign(unit, "address", text_of(address, "address"));
  }
  std::vector<std::string> domains;
  for (const auto& activity : structure.value("activities", json::array())) {
    std::string label = activity.is_object() ? text_of(activity, "label") : "";
    if (!label.empty()) domains.push_back(label);
  }
  assign_set(unit, "domains", domains);
  for (const auto& link : structure.value("links", json::array())) {
    if (link.is_object() && text_of(link, "type") == "main")
      assign(unit, "website", text_of(link, "url"));
  }
  edits.push_back(std::move(unit));
  return edits;
}

}  // namespace

Result<ImportSummary> import_rnsr(Node& node, const std::filesystem::path& file,
                                  const ImportOptions& options, std::ostream& report) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::not_found, file.string() + ": cannot read");
  json structures = json::parse(in, nullptr, false);
  if (structures.is_discarded() || !structures.is_array()) {
    return make_error(ErrorCode::invalid_argument,
                      file.string() + ": not a JSON array of RNSR structures");
  }

  auto batch = node.begin_batch(options.author);
  if (!batch) return batch.error();
  ImportSummary summary;
  for (std::size_t i = 0; i < structures.size(); ++i) {
    ++summary.read;
    auto edits = structures[i].is_object() ? structure_edits(structures[i], report)
                                           : Result<std::vector<RecordEdit>>(make_error(
                                                 ErrorCode::invalid_argument, "not an object"));
    Status staged;
    for (const auto& edit : edits ? edits.value() : std::vector<RecordEdit>{}) {
      auto written = batch->edit(edit);
      if (!written) staged = written.error();
    }
    if (!edits || !staged) {
      const Error& error = edits ? staged.error() : edits.error();
      report << "structure " << i << ": " << error.message << "\n";
      ++summary.refused;
      continue;
    }
    ++summary.written;
  }
  if (options.dry_run) return summary;
  auto committed = batch->commit();
  if (!committed) return committed.error();
  summary.changesets = committed->seqs.size();
  return summary;
}

}  // namespace tutelle::node
