#include "protocol/identifiers.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace tutelle {
namespace {

// The 23 key letters of the UAI and the RNSR: the Latin alphabet without I, O and Q. A number's
// key is the letter at the index (number mod 23).
constexpr std::string_view kKeyLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";

// Crockford's base32 digits in value order, lower case: there is no i, l, o or u.
constexpr std::string_view kCrockfordDigits = "0123456789abcdefghjkmnpqrstvwxyz";

// La Poste's SIREN: its establishments' SIRETs do not satisfy Luhn; their digits sum to a
// multiple of 5 instead.
constexpr std::string_view kLaPosteSiren = "356000000";

// The Crossref Funder Registry's DOI prefix, with its slash.
constexpr std::string_view kFunderPrefix = "10.13039/";

// At most this many bytes of an offending value are quoted in an error message, so that a huge
// input cannot make a huge log line.
constexpr std::size_t kMaxQuoted = 80;

struct KindName {
  IdentifierKind kind;
  const char* name;
};

constexpr std::array<KindName, 10> kKindNames = {{
    {IdentifierKind::orcid, "orcid"},
    {IdentifierKind::uai, "uai"},
    {IdentifierKind::rnsr, "rnsr"},
    {IdentifierKind::ror, "ror"},
    {IdentifierKind::siret, "siret"},
    {IdentifierKind::siren, "siren"},
    {IdentifierKind::idref, "idref"},
    {IdentifierKind::idhal, "idhal"},
    {IdentifierKind::doi, "doi"},
    {IdentifierKind::funder_doi, "funder_doi"},
}};

// ---- Characters and strings: ASCII only and locale-free, since identifiers are ASCII.

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_letter(char c) {
  return is_lower(c) || (c >= 'A' && c <= 'Z');
}
bool is_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
bool is_control(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}
int digit_value(char c) {
  return c - '0';
}

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
char to_upper(char c) {
  return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lowered(s.substr(0, prefix.size())) == prefix;
}

// Returns `s` without the first of `prefixes` (lower case) it begins with, ignoring case.
std::string_view strip_any_prefix(std::string_view s,
                                  std::initializer_list<std::string_view> prefixes) {
  for (std::string_view prefix : prefixes) {
    if (starts_with_ignoring_case(s, prefix)) return s.substr(prefix.size());
  }
  return s;
}

// ---- Error messages.

// The value as an error message shows it: control bytes escaped as \xNN so the message stays on
// one line, and cut after kMaxQuoted bytes (never inside a UTF-8 sequence) with "…".
std::string quoted(std::string_view value) {
  std::size_t cut = std::min(value.size(), kMaxQuoted);
  while (cut < value.size() && cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  std::string out;
  for (char c : value.substr(0, cut)) {
    if (!is_control(c)) {
      out += c;
      continue;
    }
    constexpr std::string_view kHex = "0123456789abcdef";
    auto byte = static_cast<unsigned char>(c);
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  if (cut < value.size()) out += "…";
  return out;
}

// The refusal of `value` for `field`, e.g. "orcid: '0000-0002-1825-0098' fails the …".
Error refusal(std::string_view field, std::string_view value, std::string_view rule) {
  std::string message(field);
  message += ": '" + quoted(value) + "' ";
  message += rule;
  return make_error(ErrorCode::invalid_argument, std::move(message));
}

std::string expected_found(std::string_view expected, std::string_view found) {
  return " (expected " + std::string(expected) + ", found " + std::string(found) + ")";
}

std::string expected_found(char expected, char found) {
  return expected_found(std::string_view(&expected, 1), std::string_view(&found, 1));
}

// ---- Check characters. Each takes only the payload (the characters before the check).

// ISO 7064 MOD 11-2 over decimal digits: '0'-'9', or 'X' for ten.
char mod11_2_check(std::string_view digits) {
  int total = 0;
  for (char c : digits) total = (total + digit_value(c)) * 2 % 11;
  int check = (12 - total) % 11;
  return check == 10 ? 'X' : static_cast<char>('0' + check);
}

// The UAI and RNSR key: the number the digits spell, mod 23, as a key letter.
char mod23_key(std::string_view digits) {
  int rest = 0;
  for (char c : digits) rest = (rest * 10 + digit_value(c)) % 23;
  return kKeyLetters[static_cast<std::size_t>(rest)];
}

// The Luhn digit that completes `payload`: doubling starts from the payload's last digit, which
// is second from the right once the check digit is appended.
char luhn_check_digit(std::string_view payload) {
  int sum = 0;
  bool doubled = true;
  for (auto it = payload.rbegin(); it != payload.rend(); ++it, doubled = !doubled) {
    int d = digit_value(*it);
    if (doubled) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// The SUDOC PPN check (IdRef): the 8 digits weighted 9 down to 2, the check character being what
// brings the sum to a multiple of 11 ('X' for ten).
char ppn_check(std::string_view digits) {
  int sum = 0;
  int weight = 9;
  for (char c : digits) sum += digit_value(c) * weight--;
  int check = (11 - sum % 11) % 11;
  return check == 10 ? 'X' : static_cast<char>('0' + check);
}

// ISO 7064 MOD 97-10 over the number `n`: the two digits that make n·100 + check ≡ 1 (mod 97).
int mod97_10_check(std::uint64_t n) {
  return 98 - static_cast<int>(n * 100 % 97);
}

// REQUIRES: every character of `s` is in kCrockfordDigits and s.size() <= 12.
std::uint64_t crockford_value(std::string_view s) {
  std::uint64_t n = 0;
  for (char c : s) n = n * 32 + kCrockfordDigits.find(c);
  return n;
}

std::string two_digits(int n) {
  return {static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
}

// ---- Validators. Each receives the trimmed input, quotes it whole in its errors, and returns
// the normalised identifier.

bool has_orcid_shape(std::string_view id) {
  if (id.size() != 19) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool fits = i % 5 == 4 ? c == '-' : is_digit(c) || (i == 18 && (c == 'X' || c == 'x'));
    if (!fits) return false;
  }
  return true;
}

Result<std::string> validate_orcid(std::string_view field, std::string_view input) {
  std::string id(strip_any_prefix(input, {"https://orcid.org/", "http://orcid.org/"}));
  if (!has_orcid_shape(id)) {
    return refusal(field, input,
                   "is not 16 characters in four hyphenated groups of four digits "
                   "(0000-0000-0000-000X; only the last may be X)");
  }
  id.back() = to_upper(id.back());

  std::string digits = id;
  std::erase(digits, '-');
  char expected = mod11_2_check(std::string_view(digits).substr(0, 15));
  if (expected != id.back()) {
    return refusal(field, input,
                   "fails the ISO 7064 mod 11-2 check" + expected_found(expected, id.back()));
  }
  return id;
}

// The UAI and the RNSR: `digit_count` digits, then their mod 23 key letter (either case).
Result<std::string> validate_keyed_number(std::string_view field, std::string_view input,
                                          std::size_t digit_count, std::string_view shape,
                                          std::string_view scheme) {
  std::string_view digits = input.substr(0, digit_count);
  if (input.size() != digit_count + 1 || !all_digits(digits) || !is_letter(input.back())) {
    return refusal(field, input, shape);
  }
  std::string id(input);
  id.back() = to_upper(id.back());

  char expected = mod23_key(digits);
  if (expected != id.back()) {
    return refusal(field, input,
                   "fails the " + std::string(scheme) + " key check, " +
                       std::to_string(digit_count) + " digits mod 23" +
                       expected_found(expected, id.back()));
  }
  return id;
}

// The UAI's first three digits are the département (2A and 2B are written 620 and 720).
Result<std::string> validate_uai(std::string_view field, std::string_view input) {
  return validate_keyed_number(field, input, 7,
                               "is not 7 digits followed by a key letter (e.g. 0342321N)", "UAI");
}

// The RNSR: a 4-digit year, a 5-digit serial and the key letter. The year is not checked: real
// numbers such as 000021537K carry 0000. The key rule is not published with the directory; it is
// the UAI's rule, and it holds for every one of the 47 distinct numbers (structures and their
// parents) in the scanR extract kept as a test fixture, which chance would not explain.
Result<std::string> validate_rnsr(std::string_view field, std::string_view input) {
  return validate_keyed_number(
      field, input, 9,
      "is not 9 digits (year and serial) followed by a key letter (e.g. 195817959H)", "RNSR");
}

bool has_ror_shape(std::string_view id) {
  if (id.size() != 9 || id[0] != '0') return false;
  auto is_crockford = [](char c) { return kCrockfordDigits.find(c) != std::string_view::npos; };
  std::string_view body = id.substr(1, 6);
  return std::all_of(body.begin(), body.end(), is_crockford) && all_digits(id.substr(7));
}

Result<std::string> validate_ror(std::string_view field, std::string_view input) {
  std::string id = lowered(strip_any_prefix(input, {"https://ror.org/", "http://ror.org/"}));
  if (!has_ror_shape(id)) {
    return refusal(
        field, input,
        "is not '0', 6 Crockford base32 characters (no i, l, o or u) and 2 check digits");
  }
  int expected = mod97_10_check(crockford_value(std::string_view(id).substr(0, 7)));
  int found = digit_value(id[7]) * 10 + digit_value(id[8]);
  if (expected != found) {
    return refusal(field, input,
                   "fails the ISO 7064 mod 97-10 check" +
                       expected_found(two_digits(expected), two_digits(found)));
  }
  return id;
}

bool digit_sum_is_multiple_of_5(std::string_view digits) {
  int sum = 0;
  for (char c : digits) sum += digit_value(c);
  return sum % 5 == 0;
}

// The SIREN and the SIRET: `length` digits, the last a Luhn check digit; SIRETs of La Poste
// follow their own rule instead.
Result<std::string> validate_luhn_number(std::string_view field, std::string_view input,
                                         std::size_t length) {
  if (!all_digits(input) || input.size() != length) {
    std::string rule = "is not " + std::to_string(length) + " digits";
    if (all_digits(input)) rule += " (found " + std::to_string(input.size()) + ")";
    return refusal(field, input, rule);
  }
  char expected = luhn_check_digit(input.substr(0, length - 1));
  if (expected == input.back()) return std::string(input);

  bool la_poste_siret = length == 14 && input.substr(0, 9) == kLaPosteSiren;
  if (la_poste_siret && digit_sum_is_multiple_of_5(input)) return std::string(input);
  if (la_poste_siret) {
    return refusal(field, input,
                   "fails both the Luhn check and La Poste's rule (digits summing to a multiple "
                   "of 5)");
  }
  return refusal(field, input, "fails the Luhn check" + expected_found(expected, input.back()));
}

Result<std::string> validate_idref(std::string_view field, std::string_view input) {
  std::string id(input);
  if (id.size() == 9) id.back() = to_upper(id.back());
  bool check_shape = id.size() == 9 && (is_digit(id.back()) || id.back() == 'X');
  if (!check_shape || !all_digits(std::string_view(id).substr(0, 8))) {
    return refusal(field, input,
                   "is not 8 digits followed by a check character 0-9 or X (e.g. 02886431X)");
  }
  char expected = ppn_check(std::string_view(id).substr(0, 8));
  if (expected != id.back()) {
    return refusal(
        field, input,
        "fails the IdRef (SUDOC PPN) mod 11 check" + expected_found(expected, id.back()));
  }
  return id;
}

Result<std::string> validate_idhal(std::string_view field, std::string_view input) {
  auto allowed = [](char c) { return is_lower(c) || is_digit(c) || c == '-'; };
  if (!std::all_of(input.begin(), input.end(), allowed)) {
    return refusal(field, input, "may hold only lowercase letters a-z, digits and hyphens");
  }
  if (input.front() == '-' || input.back() == '-') {
    return refusal(field, input, "begins or ends with a hyphen");
  }
  return std::string(input);
}

// A registrant code is digits, possibly in several groups separated by single dots (10.1000.5).
bool is_registrant_code(std::string_view code) {
  if (code.empty() || code.front() == '.' || code.back() == '.') return false;
  if (code.find("..") != std::string_view::npos) return false;
  return std::all_of(code.begin(), code.end(), [](char c) { return is_digit(c) || c == '.'; });
}

// Returns the DOI syntax rule that `doi` (without resolver prefix) breaks, or an empty view.
std::string_view doi_syntax_problem(std::string_view doi) {
  if (doi.substr(0, 3) != "10.") return "does not begin with the DOI directory indicator '10.'";
  std::size_t slash = doi.find('/');
  if (slash == std::string_view::npos) return "has no '/' between the DOI prefix and suffix";
  if (!is_registrant_code(doi.substr(3, slash - 3))) {
    return "has a registrant code (between '10.' and '/') that is not dot-separated digits";
  }
  std::string_view suffix = doi.substr(slash + 1);
  if (suffix.empty()) return "has an empty suffix after the '/'";
  auto blank = [](char c) { return is_space(c) || is_control(c); };
  if (std::any_of(suffix.begin(), suffix.end(), blank)) {
    return "has whitespace or a control character in its suffix";
  }
  return {};
}

std::string_view strip_doi_resolver(std::string_view input) {
  return strip_any_prefix(input, {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                                  "http://dx.doi.org/", "doi:"});
}

// DOIs are case-insensitive over ASCII, so the normal form is lower case.
Result<std::string> validate_doi(std::string_view field, std::string_view input) {
  std::string_view doi = strip_doi_resolver(input);
  std::string_view problem = doi_syntax_problem(doi);
  if (!problem.empty()) return refusal(field, input, problem);
  return lowered(doi);
}

Result<std::string> validate_funder_doi(std::string_view field, std::string_view input) {
  Result<std::string> doi = validate_doi(field, input);
  if (!doi.ok()) return doi;
  std::string_view id = doi.value();
  if (id.substr(0, kFunderPrefix.size()) != kFunderPrefix ||
      !all_digits(id.substr(kFunderPrefix.size()))) {
    return refusal(field, input,
                   "is not a Funder Registry DOI (10.13039/ followed by digits, e.g. "
                   "10.13039/501100001665)");
  }
  return doi;
}

}  // namespace

const char* to_string(IdentifierKind kind) {
  for (const KindName& entry : kKindNames) {
    if (entry.kind == kind) return entry.name;
  }
  return "unknown";
}

std::optional<IdentifierKind> identifier_kind_from(std::string_view name) {
  for (const KindName& entry : kKindNames) {
    if (name == entry.name) return entry.kind;
  }
  return std::nullopt;
}

Result<std::string> validate_identifier(IdentifierKind kind, std::string_view field,
                                        std::string_view value) {
  std::string_view input = trim(value);
  if (input.empty()) return refusal(field, value, "is empty");

  switch (kind) {
    case IdentifierKind::orcid: return validate_orcid(field, input);
    case IdentifierKind::uai: return validate_uai(field, input);
    case IdentifierKind::rnsr: return validate_rnsr(field, input);
    case IdentifierKind::ror: return validate_ror(field, input);
    case IdentifierKind::siret: return validate_luhn_number(field, input, 14);
    case IdentifierKind::siren: return validate_luhn_number(field, input, 9);
    case IdentifierKind::idref: return validate_idref(field, input);
    case IdentifierKind::idhal: return validate_idhal(field, input);
    case IdentifierKind::doi: return validate_doi(field, input);
    case IdentifierKind::funder_doi: return validate_funder_doi(field, input);
  }
  return make_error(ErrorCode::internal, std::string(field) + ": identifier kind " +
                                             std::to_string(static_cast<int>(kind)) +
                                             " is not known");
}

}  // namespace tutelle
