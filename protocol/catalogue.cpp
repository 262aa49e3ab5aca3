#include "protocol/catalogue.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>

namespace tutelle {

namespace {

FieldSpec text(std::string name, bool required = false) {
  return FieldSpec{std::move(name), FieldKind::text, required, {}, {}, {}};
}

FieldSpec of_kind(std::string name, FieldKind kind, bool required = false) {
  return FieldSpec{std::move(name), kind, required, {}, {}, {}};
}

FieldSpec choice(std::string name, std::vector<std::string> values, bool required = false) {
  return FieldSpec{std::move(name), FieldKind::choice, required, {}, {}, std::move(values)};
}

FieldSpec ref(std::string name, std::string target, bool required = false) {
  return FieldSpec{std::move(name), FieldKind::reference, required, {}, std::move(target), {}};
}

FieldSpec refs(std::string name, std::string target) {
  return FieldSpec{std::move(name), FieldKind::reference_set, false, {}, std::move(target), {}};
}

FieldSpec ident(std::string name, IdentifierKind kind) {
  return FieldSpec{std::move(name), FieldKind::identifier, false, kind, {}, {}};
}

TypeSpec structure_type() {
  return TypeSpec{
      "structure",
      "an establishment, research unit, team, department or platform",
      {choice("kind", {"establishment", "unit", "team", "department", "platform", "other"}, true),
       text("name", true), text("acronym"), ident("rnsr", IdentifierKind::rnsr),
       ident("ror", IdentifierKind::ror), ident("uai", IdentifierKind::uai),
       ident("siret", IdentifierKind::siret), text("hceres"), refs("parents", "structure"),
       refs("tutelles", "structure"), ref("lead_tutelle", "structure"),
       of_kind("labels", FieldKind::text_set), of_kind("creation_year", FieldKind::integer),
       text("city"), text("address"), of_kind("domains", FieldKind::text_set), text("website")},
      {"rnsr", "uai"},
      {"parents"}};
}

TypeSpec person_type() {
  return TypeSpec{"person",
                  "a researcher or staff member",
                  {text("family_name", true), text("given_name"),
                   ident("orcid", IdentifierKind::orcid), ident("idhal", IdentifierKind::idhal),
                   ident("idref", IdentifierKind::idref), text("email"), text("eppn")},
                  {"orcid"},
                  {}};
}

TypeSpec assignment_type() {
  return TypeSpec{
      "assignment",
      "a person in a structure with a role and dates: the org chart",
      {ref("person", "person", true), ref("structure", "structure", true),
       choice("role", {"member", "team_leader", "unit_director", "delegate", "manager"}, true),
       of_kind("start", FieldKind::date), of_kind("end", FieldKind::date)},
      {},
      {"structure"}};
}

TypeSpec project_type() {
  return TypeSpec{
      "project",
      "a research project, its funding and participants",
      {text("title", true), text("acronym"), text("typology"),
       ident("funder", IdentifierKind::funder_doi), ref("call", "call"),
       ref("lead_structure", "structure"), refs("structures", "structure"),
       refs("people", "person"), of_kind("budget", FieldKind::decimal),
       of_kind("start", FieldKind::date), of_kind("end", FieldKind::date),
       choice("status", {"draft", "submitted", "accepted", "running", "finished", "rejected"})},
      {},
      {"lead_structure", "structures"}};
}

TypeSpec product_type() {
  return TypeSpec{
      "product",
      "a research output: article, dataset, software, patent, book",
      {choice("kind", {"article", "book", "dataset", "software", "patent", "other"}, true),
       text("title", true), ident("doi", IdentifierKind::doi), text("hal_id"),
       refs("authors", "person"), refs("projects", "project"), refs("structures", "structure"),
       of_kind("year", FieldKind::integer)},
      {"doi"},
      {"structures"}};
}

TypeSpec call_type() {
  return TypeSpec{
      "call",
      "a call for projects, national or internal",
      {text("title", true), choice("kind", {"national", "internal", "european", "other"}),
       ident("funder", IdentifierKind::funder_doi), of_kind("opens", FieldKind::date),
       of_kind("closes", FieldKind::date), choice("status", {"draft", "open", "closed", "decided"}),
       refs("disciplines", "nomenclature")},
      {},
      {}};
}

TypeSpec application_type() {
  return TypeSpec{"application",
                  "an application to a call, its evaluation and outcome",
                  {ref("call", "call", true), ref("project", "project"), ref("applicant", "person"),
                   ref("structure", "structure"), of_kind("submitted", FieldKind::date),
                   choice("status", {"draft", "submitted", "eligible", "ineligible", "evaluated",
                                     "accepted", "rejected"}),
                   text("evaluation"), of_kind("score", FieldKind::decimal)},
                  {},
                  {"structure", "call"}};
}

TypeSpec partnership_type() {
  return TypeSpec{
      "partnership",
      "a partner organisation of a project and the agreement with it",
      {text("partner_name", true), ident("partner_ror", IdentifierKind::ror),
       ident("partner_siret", IdentifierKind::siret), ref("project", "project"),
       text("agreement_type"), of_kind("start", FieldKind::date), of_kind("end", FieldKind::date)},
      {},
      {"project"}};
}

TypeSpec nomenclature_type() {
  return TypeSpec{"nomenclature",
                  "an entry of a discipline nomenclature (ANR, ERC, Hcéres) or local typology",
                  {choice("scheme", {"anr", "erc", "hceres", "local"}, true), text("code", true),
                   text("label", true), ref("parent", "nomenclature")},
                  {},
                  {}};
}

TypeSpec habilitation_type() {
  return TypeSpec{
      "habilitation",
      "a right given to a person: a profile on a perimeter (identity/habilitations.hpp)",
      {text("principal", true),
       choice("profile",
              {"researcher", "team_leader", "unit_director", "unit_manager", "establishment_admin",
               "central_services", "call_manager", "partner_reader", "hub_admin"},
              true),
       ref("perimeter", "structure", true), ident("establishment", IdentifierKind::uai),
       of_kind("start", FieldKind::date), of_kind("end", FieldKind::date)},
      {},
      {"perimeter"}};
}

bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

bool valid_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int parts[3] = {0, 0, 0};
  const std::string_view pieces[3] = {text.substr(0, 4), text.substr(5, 2), text.substr(8, 2)};
  for (int i = 0; i < 3; ++i) {
    for (char c : pieces[i]) {
      if (c < '0' || c > '9') return false;
    }
    std::from_chars(pieces[i].data(), pieces[i].data() + pieces[i].size(), parts[i]);
  }
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (parts[1] < 1 || parts[1] > 12 || parts[2] < 1) return false;
  int last = days[parts[1] - 1] + (parts[1] == 2 && is_leap(parts[0]) ? 1 : 0);
  return parts[2] <= last;
}

bool valid_decimal(std::string_view text) {
  std::size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  std::size_t digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    if (text[i] >= '0' && text[i] <= '9') {
      ++digits;
    } else if (text[i] == '.' && !point && digits > 0) {
      point = true;
      digits = 0;
    } else {
      return false;
    }
  }
  return digits > 0;
}

Error bad_value(const TypeSpec& type, const FieldSpec& field, std::string_view text,
                const std::string& rule) {
  return make_error(ErrorCode::invalid_argument,
                    type.name + "." + field.name + ": '" + std::string(text) + "' " + rule);
}

Result<Value> parse_scalar(const TypeSpec& type, const FieldSpec& field, std::string_view text) {
  switch (field.kind) {
    case FieldKind::integer: {
      std::int64_t number = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return bad_value(type, field, text, "is not an integer");
      }
      return Value{number};
    }
    case FieldKind::decimal:
      if (!valid_decimal(text)) return bad_value(type, field, text, "is not a decimal number");
      return Value{std::string(text)};
    case FieldKind::date:
      if (!valid_date(text)) return bad_value(type, field, text, "is not a date YYYY-MM-DD");
      return Value{std::string(text)};
    case FieldKind::boolean:
      if (text == "true") return Value{true};
      if (text == "false") return Value{false};
      return bad_value(type, field, text, "is not true or false");
    default: return Value{std::string(text)};
  }
}

}  // namespace

const char* to_string(FieldKind kind) {
  switch (kind) {
    case FieldKind::text: return "text";
    case FieldKind::integer: return "integer";
    case FieldKind::decimal: return "decimal";
    case FieldKind::date: return "date";
    case FieldKind::boolean: return "boolean";
    case FieldKind::choice: return "choice";
    case FieldKind::reference: return "reference";
    case FieldKind::reference_set: return "set of references";
    case FieldKind::text_set: return "set of texts";
    case FieldKind::identifier: return "identifier";
  }
  return "unknown";
}

const FieldSpec* TypeSpec::field(std::string_view field_name) const {
  for (const auto& spec : fields) {
    if (spec.name == field_name) return &spec;
  }
  return nullptr;
}

const std::vector<TypeSpec>& catalogue() {
  static const std::vector<TypeSpec> types = {
      structure_type(),    person_type(),      assignment_type(),  project_type(),
      product_type(),      call_type(),        application_type(), partnership_type(),
      nomenclature_type(), habilitation_type()};
  return types;
}

const TypeSpec* find_type(std::string_view name) {
  for (const auto& type : catalogue()) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

Result<const TypeSpec*> require_type(std::string_view name) {
  if (const TypeSpec* type = find_type(name)) return type;
  std::string known;
  for (const auto& type : catalogue()) known += (known.empty() ? "" : ", ") + type.name;
  return make_error(
      ErrorCode::invalid_argument,
      "type: '" + std::string(name) + "' is not a record type (known: " + known + ")");
}

Result<Value> parse_value(const TypeSpec& type, const FieldSpec& field, std::string_view text) {
  if (text.empty()) return bad_value(type, field, text, "is empty");
  if (field.kind == FieldKind::identifier) {
    auto normalised = validate_identifier(field.identifier, type.name + "." + field.name, text);
    if (!normalised) return normalised.error();
    return Value{normalised.value()};
  }
  if (field.kind == FieldKind::choice &&
      std::find(field.choices.begin(), field.choices.end(), text) == field.choices.end()) {
    std::string allowed;
    for (const auto& c : field.choices) allowed += (allowed.empty() ? "" : ", ") + c;
    return bad_value(type, field, text, "is not one of " + allowed);
  }
  if (field.is_reference()) {
    Status checked = check_record_id(text);
    if (!checked)
      return bad_value(type, field, text, "is not a record id: " + checked.error().message);
  }
  return parse_scalar(type, field, text);
}

std::string value_text(const Value& value) {
  if (auto* text = std::get_if<std::string>(&value.data)) return *text;
  if (auto* integer = std::get_if<std::int64_t>(&value.data)) return std::to_string(*integer);
  if (auto* boolean = std::get_if<bool>(&value.data)) return *boolean ? "true" : "false";
  return "";
}

std::optional<std::string> natural_id(
    const TypeSpec& type, const std::vector<std::pair<std::string, std::string>>& identifiers) {
  for (const auto& key : type.natural_keys) {
    const FieldSpec* spec = type.field(key);
    for (const auto& [name, value] : identifiers) {
      if (name == key && spec != nullptr) {
        return std::string(to_string(spec->identifier)) + ":" + value;
      }
    }
  }
  return std::nullopt;
}

std::string random_id(const TypeSpec& type, std::uint64_t millis) {
  std::uint8_t bytes[12];
  for (int i = 5; i >= 0; --i) {
    bytes[i] = static_cast<std::uint8_t>(millis & 0xff);
    millis >>= 8;
  }
  randombytes_buf(bytes + 6, 6);
  static const char* digits = "0123456789abcdef";
  std::string id = type.name + ":";
  for (std::uint8_t b : bytes) {
    id.push_back(digits[b >> 4]);
    id.push_back(digits[b & 0xf]);
  }
  return id;
}

Status check_record_id(std::string_view id) {
  auto colon = id.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == id.size()) {
    return make_error(ErrorCode::invalid_argument,
                      "id: '" + std::string(id) + "' is not of the form prefix:key");
  }
  if (id.size() > 256) {
    return make_error(ErrorCode::invalid_argument, "id: longer than 256 bytes");
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return make_error(ErrorCode::invalid_argument,
                        "id: '" + std::string(id) + "' holds a space or a control character");
    }
  }
  return {};
}

std::string establishment_id(std::string_view uai) {
  return "uai:" + std::string(uai);
}

}  // namespace tutelle

namespace tutelle {

bool is_scope_root(std::string_view type, std::string_view kind, bool has_tutelles) {
  return type == "structure" && (kind == "establishment" || kind == "unit" || has_tutelles);
}

}  // namespace tutelle

namespace tutelle {

namespace {

Status check_operation(const Operation& op) {
  Status id = check_record_id(op.record);
  if (!id) return id;
  auto type = require_type(op.type);
  if (!type) return type.error();
  if (op.kind == OpKind::delete_record) {
    if (!op.field.empty()) return make_error(ErrorCode::corrupt, "a delete names a field");
    return {};
  }
  if (op.kind == OpKind::merge) {
    if (!op.field.empty()) return make_error(ErrorCode::corrupt, "a merge names a field");
    auto* survivor = std::get_if<std::string>(&op.value.data);
    if (survivor == nullptr) return make_error(ErrorCode::corrupt, "a merge names no survivor");
    if (*survivor == op.record) return make_error(ErrorCode::corrupt, "a merge into itself");
    return check_record_id(*survivor);
  }
  const FieldSpec* field = type.value()->field(op.field);
  if (field == nullptr) {
    return make_error(ErrorCode::invalid_argument, op.type + "." + op.field + ": no such field");
  }
  bool set_op = op.kind == OpKind::add || op.kind == OpKind::remove;
  if (field->is_set() != set_op && op.kind != OpKind::remove) {
    return make_error(ErrorCode::invalid_argument, op.type + "." + op.field +
                                                       ": that operation does not fit a " +
                                                       to_string(field->kind) + " field");
  }
  if (op.kind == OpKind::remove) return {};
  bool integer = std::holds_alternative<std::int64_t>(op.value.data);
  bool boolean = std::holds_alternative<bool>(op.value.data);
  if (integer != (field->kind == FieldKind::integer) ||
      boolean != (field->kind == FieldKind::boolean)) {
    return make_error(ErrorCode::invalid_argument,
                      op.type + "." + op.field + ": a value of the wrong kind");
  }
  auto parsed = parse_value(*type.value(), *field, value_text(op.value));
  if (!parsed) return parsed.error();
  if (!(parsed.value() == op.value)) {
    return make_error(ErrorCode::invalid_argument, op.type + "." + op.field + ": '" +
                                                       value_text(op.value) +
                                                       "' is not in its normalised form");
  }
  return {};
}

}  // namespace

Status check_changeset(const Changeset& changeset) {
  if (changeset.version != 1) {
    return make_error(ErrorCode::corrupt,
                      "changeset version " + std::to_string(changeset.version) + " (1 expected)");
  }
  if (changeset.seq == 0) return make_error(ErrorCode::corrupt, "changeset seq 0");
  Status scope = check_record_id(changeset.scope);
  if (!scope) return scope.error().context("scope");
  if (changeset.author.empty()) return make_error(ErrorCode::invalid_argument, "no author");
  if (changeset.operations.empty()) return make_error(ErrorCode::corrupt, "no operations");
  for (std::size_t i = 0; i < changeset.operations.size(); ++i) {
    Status checked = check_operation(changeset.operations[i]);
    if (!checked) return checked.error().context("operation " + std::to_string(i));
  }
  return {};
}

}  // namespace tutelle
