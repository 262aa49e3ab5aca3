#include "protocol/identifiers.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace {

using tutelle::IdentifierKind;
using tutelle::validate_identifier;

struct ValidCase {
  IdentifierKind kind;
  const char* input;
  const char* normalised;
};

struct InvalidCase {
  IdentifierKind kind;
  const char* input;
  const char* rule;  // the message after "<field>: '<input>' "
};

// Real identifiers unless marked otherwise. ORCIDs are ORCID's own documentation examples; UAIs,
// RNSR numbers and SIRETs are published ones (Université de Montpellier, Paris 1, Corse…);
// IdRefs are person and subject authorities cited in public repositories.
const std::vector<ValidCase> kValid = {
    {IdentifierKind::orcid, "0000-0002-1825-0097", "0000-0002-1825-0097"},
    {IdentifierKind::orcid, "https://orcid.org/0000-0001-5109-3700", "0000-0001-5109-3700"},
    {IdentifierKind::orcid, "0000-0002-1694-233x", "0000-0002-1694-233X"},
    {IdentifierKind::orcid, "HTTP://ORCID.ORG/0000-0002-1694-233X", "0000-0002-1694-233X"},
    {IdentifierKind::uai, "0342321N", "0342321N"},
    {IdentifierKind::uai, "0751717J", "0751717J"},
    {IdentifierKind::uai, "0753639Y", "0753639Y"},
    {IdentifierKind::uai, "0330192E", "0330192E"},
    {IdentifierKind::uai, "0333298F", "0333298F"},
    {IdentifierKind::uai, "7200664J", "7200664J"},  // Corse (2B is written 720)
    {IdentifierKind::uai, "9740478B", "9740478B"},  // La Réunion
    {IdentifierKind::uai, "0342321n", "0342321N"},
    {IdentifierKind::rnsr, "195817959H", "195817959H"},
    {IdentifierKind::rnsr, "194517892S", "194517892S"},
    {IdentifierKind::rnsr, "000021537K", "000021537K"},
    {IdentifierKind::rnsr, "200417732l", "200417732L"},
    {IdentifierKind::ror, "02feahw73", "02feahw73"},
    {IdentifierKind::ror, "https://ror.org/03v2c3v44", "03v2c3v44"},
    {IdentifierKind::ror, "02FEAHW73", "02feahw73"},
    {IdentifierKind::siret, "77568489700017", "77568489700017"},
    {IdentifierKind::siret, "18008901303720", "18008901303720"},
    {IdentifierKind::siret, "13002054800017", "13002054800017"},
    {IdentifierKind::siret, "35600000000048", "35600000000048"},  // La Poste's head office: Luhn
    {IdentifierKind::siret, "35600000000010", "35600000000010"},  // constructed: La Poste's rule
    {IdentifierKind::siren, "775684897", "775684897"},
    {IdentifierKind::siren, "130020548", "130020548"},
    {IdentifierKind::siren, "356000000", "356000000"},
    {IdentifierKind::idref, "026403447", "026403447"},
    {IdentifierKind::idref, "02886431X", "02886431X"},
    {IdentifierKind::idref, "02734004x", "02734004X"},
    {IdentifierKind::idref, "083420592", "083420592"},
    {IdentifierKind::idref, "099757427", "099757427"},
    {IdentifierKind::idref, "094258686", "094258686"},
    {IdentifierKind::idhal, "jean-dupont", "jean-dupont"},
    {IdentifierKind::idhal, "marie-claire-2", "marie-claire-2"},
    {IdentifierKind::doi, "10.1038/nphys1170", "10.1038/nphys1170"},
    {IdentifierKind::doi, "https://doi.org/10.1038/Nature14539", "10.1038/nature14539"},
    {IdentifierKind::doi, "http://dx.doi.org/10.1000/182", "10.1000/182"},
    {IdentifierKind::doi, "doi:10.1000.10/ABC(1)<2>", "10.1000.10/abc(1)<2>"},
    {IdentifierKind::doi, "10.13039/501100001665", "10.13039/501100001665"},
    {IdentifierKind::funder_doi, "10.13039/501100001665", "10.13039/501100001665"},
    {IdentifierKind::funder_doi, "https://doi.org/10.13039/100000001", "10.13039/100000001"},
    {IdentifierKind::funder_doi, "http://dx.doi.org/10.13039/501100000780",
     "10.13039/501100000780"},
};

const char* const kOrcidShape =
    "is not 16 characters in four hyphenated groups of four digits (0000-0000-0000-000X; only "
    "the last may be X)";
const char* const kUaiShape = "is not 7 digits followed by a key letter (e.g. 0342321N)";
const char* const kRnsrShape =
    "is not 9 digits (year and serial) followed by a key letter (e.g. 195817959H)";
const char* const kRorShape =
    "is not '0', 6 Crockford base32 characters (no i, l, o or u) and 2 check digits";
const char* const kIdrefShape =
    "is not 8 digits followed by a check character 0-9 or X (e.g. 02886431X)";
const char* const kIdhalChars = "may hold only lowercase letters a-z, digits and hyphens";
const char* const kNotFunder =
    "is not a Funder Registry DOI (10.13039/ followed by digits, e.g. 10.13039/501100001665)";

const std::vector<InvalidCase> kInvalid = {
    {IdentifierKind::orcid, "0000-0002-1825-0098",
     "fails the ISO 7064 mod 11-2 check (expected 7, found 8)"},
    {IdentifierKind::orcid, "0000-0001-5109-370X",
     "fails the ISO 7064 mod 11-2 check (expected 0, found X)"},
    {IdentifierKind::orcid, "0000000218250097", kOrcidShape},
    {IdentifierKind::orcid, "0000-0002-1825-009", kOrcidShape},
    {IdentifierKind::orcid, "0000-0002-182X-0097", kOrcidShape},
    {IdentifierKind::orcid, "https://orcid.org/", kOrcidShape},
    {IdentifierKind::uai, "0342321P",
     "fails the UAI key check, 7 digits mod 23 (expected N, found P)"},
    {IdentifierKind::uai, "0751717I",
     "fails the UAI key check, 7 digits mod 23 (expected J, found I)"},
    {IdentifierKind::uai, "342321N", kUaiShape},
    {IdentifierKind::uai, "2B00664J", kUaiShape},
    {IdentifierKind::uai, "03423210", kUaiShape},
    {IdentifierKind::rnsr, "195817959J",
     "fails the RNSR key check, 9 digits mod 23 (expected H, found J)"},
    {IdentifierKind::rnsr, "19581795H", kRnsrShape},
    {IdentifierKind::rnsr, "195817959", kRnsrShape},
    {IdentifierKind::ror, "02feahw74",
     "fails the ISO 7064 mod 97-10 check (expected 73, found 74)"},
    {IdentifierKind::ror, "12feahw73", kRorShape},
    {IdentifierKind::ror, "02feahl73", kRorShape},
    {IdentifierKind::ror, "02feahw7", kRorShape},
    {IdentifierKind::ror, "https://ror.org/", kRorShape},
    {IdentifierKind::siret, "7756757960012", "is not 14 digits (found 13)"},
    {IdentifierKind::siret, "7756848970001A", "is not 14 digits"},
    {IdentifierKind::siret, "77568489700018", "fails the Luhn check (expected 7, found 8)"},
    {IdentifierKind::siret, "12345678900005", "fails the Luhn check (expected 7, found 5)"},
    {IdentifierKind::siret, "35600000000011",
     "fails both the Luhn check and La Poste's rule (digits summing to a multiple of 5)"},
    {IdentifierKind::siren, "775684898", "fails the Luhn check (expected 7, found 8)"},
    {IdentifierKind::siren, "77568489", "is not 9 digits (found 8)"},
    {IdentifierKind::idref, "026403448",
     "fails the IdRef (SUDOC PPN) mod 11 check (expected 7, found 8)"},
    {IdentifierKind::idref, "028864310",
     "fails the IdRef (SUDOC PPN) mod 11 check (expected X, found 0)"},
    {IdentifierKind::idref, "02640344", kIdrefShape},
    {IdentifierKind::idref, "0264034470", kIdrefShape},
    {IdentifierKind::idref, "02886431Y", kIdrefShape},
    {IdentifierKind::idhal, "Jean-Dupont", kIdhalChars},
    {IdentifierKind::idhal, "jean dupont", kIdhalChars},
    {IdentifierKind::idhal, "jérôme-martin", kIdhalChars},
    {IdentifierKind::idhal, "-jean", "begins or ends with a hyphen"},
    {IdentifierKind::idhal, "jean-", "begins or ends with a hyphen"},
    {IdentifierKind::doi, "11.1000/182", "does not begin with the DOI directory indicator '10.'"},
    {IdentifierKind::doi, "10.1000", "has no '/' between the DOI prefix and suffix"},
    {IdentifierKind::doi, "10.10a0/182",
     "has a registrant code (between '10.' and '/') that is not dot-separated digits"},
    {IdentifierKind::doi, "10..1000/182",
     "has a registrant code (between '10.' and '/') that is not dot-separated digits"},
    {IdentifierKind::doi, "10./182",
     "has a registrant code (between '10.' and '/') that is not dot-separated digits"},
    {IdentifierKind::doi, "10.1000/", "has an empty suffix after the '/'"},
    {IdentifierKind::doi, "10.1000/18 2", "has whitespace or a control character in its suffix"},
    {IdentifierKind::doi, "doi:", "does not begin with the DOI directory indicator '10.'"},
    {IdentifierKind::funder_doi, "10.1000/182", kNotFunder},
    {IdentifierKind::funder_doi, "10.13039/50110000166a", kNotFunder},
    {IdentifierKind::funder_doi, "10.13039/", "has an empty suffix after the '/'"},
};

const std::vector<IdentifierKind> kAllKinds = {
    IdentifierKind::orcid, IdentifierKind::uai,        IdentifierKind::rnsr,  IdentifierKind::ror,
    IdentifierKind::siret, IdentifierKind::siren,      IdentifierKind::idref, IdentifierKind::idhal,
    IdentifierKind::doi,   IdentifierKind::funder_doi,
};

// The message validate_identifier gives, or "" if it accepts the value.
std::string refusal_of(IdentifierKind kind, const std::string& field, const std::string& value) {
  auto result = validate_identifier(kind, field, value);
  return result.ok() ? std::string() : result.error().message;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::filesystem::path fixture(const std::string& relative) {
  return std::filesystem::path(TUTELLE_FIXTURES_DIR) / relative;
}

}  // namespace

TEST_CASE("real identifiers of every kind are accepted in their normalised form") {
  for (const ValidCase& c : kValid) {
    CAPTURE(tutelle::to_string(c.kind), c.input);
    auto result = validate_identifier(c.kind, "field", c.input);
    INFO((result.ok() ? std::string() : result.error().message));
    REQUIRE(result.ok());
    CHECK(result.value() == c.normalised);
  }
}

TEST_CASE("a malformed identifier is refused with the field, the value and the rule named") {
  for (const InvalidCase& c : kInvalid) {
    std::string field = std::string("record.") + tutelle::to_string(c.kind);
    CAPTURE(c.input);
    auto result = validate_identifier(c.kind, field, c.input);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == tutelle::ErrorCode::invalid_argument);
    CHECK(result.error().message == field + ": '" + c.input + "' " + c.rule);
  }
}

TEST_CASE("an ORCID with a wrong check digit is refused with the rule named") {
  CHECK(refusal_of(IdentifierKind::orcid, "orcid", "0000-0002-1825-0098") ==
        "orcid: '0000-0002-1825-0098' fails the ISO 7064 mod 11-2 check (expected 7, found 8)");
}

TEST_CASE("surrounding whitespace is ignored but whitespace inside a value is not") {
  auto padded = validate_identifier(IdentifierKind::uai, "uai", " \t0342321n\n");
  REQUIRE(padded.ok());
  CHECK(padded.value() == "0342321N");

  CHECK(refusal_of(IdentifierKind::siret, "siret", "775 684 897 00017") ==
        "siret: '775 684 897 00017' is not 14 digits");
}

TEST_CASE("an empty or blank value is refused for every kind") {
  for (IdentifierKind kind : kAllKinds) {
    CAPTURE(tutelle::to_string(kind));
    CHECK(refusal_of(kind, "f", "") == "f: '' is empty");
    CHECK(refusal_of(kind, "f", "  ") == "f: '  ' is empty");
  }
}

TEST_CASE("a UAI of Corsica is written with digits, not 2A or 2B") {
  CHECK(validate_identifier(IdentifierKind::uai, "uai", "7200664J").ok());
  CHECK_FALSE(validate_identifier(IdentifierKind::uai, "uai", "2B00664J").ok());
}

TEST_CASE("a La Poste SIRET passes by its digit sum, any other SIRET needs Luhn") {
  // 35600000000010 fails Luhn and its digits sum to 15; 12345678900005 sums to 50 but is not
  // La Poste's, so the digit sum does not save it.
  CHECK(validate_identifier(IdentifierKind::siret, "siret", "35600000000010").ok());
  CHECK_FALSE(validate_identifier(IdentifierKind::siret, "siret", "12345678900005").ok());
}

TEST_CASE("a funder DOI is a DOI under 10.13039/ with a numeric suffix, in any resolver form") {
  auto anr = validate_identifier(IdentifierKind::funder_doi, "funder", "DOI:10.13039/501100001665");
  REQUIRE(anr.ok());
  CHECK(anr.value() == "10.13039/501100001665");
  CHECK_FALSE(validate_identifier(IdentifierKind::funder_doi, "funder", "10.13039/abc").ok());
}

TEST_CASE("a quoted value stays on one line and is cut short when long") {
  CHECK(refusal_of(IdentifierKind::idhal, "idhal", "jean\ndupont") ==
        "idhal: 'jean\\x0adupont' may hold only lowercase letters a-z, digits and hyphens");

  std::string huge(1000, 'A');
  std::string message = refusal_of(IdentifierKind::idhal, "idhal", huge);
  CHECK(message == "idhal: '" + std::string(80, 'A') + "…' " + kIdhalChars);
}

TEST_CASE("every kind's name maps to the kind and back, and unknown names map to nothing") {
  std::set<std::string> names;
  for (IdentifierKind kind : kAllKinds) {
    std::string name = tutelle::to_string(kind);
    names.insert(name);
    CHECK(tutelle::identifier_kind_from(name) == kind);
  }
  CHECK(names == std::set<std::string>{"orcid", "uai", "rnsr", "ror", "siret", "siren", "idref",
                                       "idhal", "doi", "funder_doi"});
  CHECK_FALSE(tutelle::identifier_kind_from("ORCID").has_value());
  CHECK_FALSE(tutelle::identifier_kind_from("isbn").has_value());
}

TEST_CASE("every ROR id of the fixture passes, by file name and by id field") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(fixture("ror"))) {
    if (entry.path().extension() != ".json") continue;
    std::string stem = entry.path().stem().string();
    auto url = read_json(entry.path()).at("id").get<std::string>();
    CAPTURE(stem, url);

    auto by_name = validate_identifier(IdentifierKind::ror, "ror", stem);
    auto by_url = validate_identifier(IdentifierKind::ror, "ror", url);
    REQUIRE(by_name.ok());
    REQUIRE(by_url.ok());
    CHECK(by_url.value() == stem);
    ++count;
  }
  CHECK(count == 290);
}

TEST_CASE("every RNSR number of the fixture, structures and parents, passes the key check") {
  nlohmann::json structures = read_json(fixture("rnsr/structures.json"));
  std::set<std::string> numbers;
  for (const auto& structure : structures) {
    numbers.insert(structure.at("id").get<std::string>());
    if (structure.at("parent").is_null()) continue;
    for (const auto& parent : structure.at("parent")) {
      numbers.insert(parent.at("id").get<std::string>());
    }
  }
  CHECK(numbers.size() == 47);
  for (const std::string& number : numbers) {
    CAPTURE(number);
    CHECK(validate_identifier(IdentifierKind::rnsr, "rnsr", number).ok());
  }
}

TEST_CASE("every tutelle SIREN and SIRET of the fixture passes, save its one 13-digit SIRET") {
  nlohmann::json structures = read_json(fixture("rnsr/structures.json"));
  int sirets = 0;
  for (const auto& structure : structures) {
    for (const auto& institution : structure.at("institutions")) {
      auto siren = institution.at("id").get<std::string>();
      auto siret = institution.at("siret").get<std::string>();
      CAPTURE(siren, siret);
      CHECK(validate_identifier(IdentifierKind::siren, "siren", siren).ok());
      if (siret == "7756757960012") continue;  // checked below
      CHECK(validate_identifier(IdentifierKind::siret, "siret", siret).ok());
      ++sirets;
    }
  }
  CHECK(sirets == 36);
  CHECK(refusal_of(IdentifierKind::siret, "institutions[].siret", "7756757960012") ==
        "institutions[].siret: '7756757960012' is not 14 digits (found 13)");
}
