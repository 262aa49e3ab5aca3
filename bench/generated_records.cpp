#include "bench/generated_records.hpp"

#include <array>
#include <cstdio>
#include <string_view>

namespace tutelle::bench {

namespace {

constexpr std::array<std::string_view, 40> kFamilyNames = {
    "Martin",   "Bernard", "Thomas",    "Petit",    "Robert",  "Richard",  "Durand",  "Dubois",
    "Moreau",   "Laurent", "Simon",     "Michel",   "Lefèvre", "Leroy",    "Roux",    "David",
    "Bertrand", "Morel",   "Fournier",  "Girard",   "Bonnet",  "Dupont",   "Lambert", "Fontaine",
    "Rousseau", "Vincent", "Muller",    "Faure",    "André",   "Mercier",  "Blanc",   "Guérin",
    "Boyer",    "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Perrin",  "Clément"};

constexpr std::array<std::string_view, 32> kGivenNames = {
    "Camille", "Léa",   "Manon",   "Chloé",   "Inès",   "Sarah",    "Emma",     "Louise",
    "Claire",  "Anne",  "Hélène",  "Marie",   "Julie",  "Sophie",   "Élodie",   "Nadia",
    "Lucas",   "Hugo",  "Louis",   "Jules",   "Thomas", "Nicolas",  "Julien",   "Antoine",
    "Pierre",  "Karim", "Mathieu", "Olivier", "Jérôme", "François", "Stéphane", "Yann"};

constexpr std::array<std::string_view, 16> kMethods = {
    "Machine learning",      "Multi-scale modelling", "Long-term monitoring",
    "Participatory mapping", "Bayesian inference",    "High-resolution imaging",
    "Comparative analysis",  "Formal verification",   "Ab initio simulation",
    "Field experiments",     "Quantum sensing",       "Open corpora",
    "Digital twins",         "Isotopic tracing",      "Network analysis",
    "Low-cost sensors"};

constexpr std::array<std::string_view, 16> kSubjects = {
    "coastal erosion",     "soil microbiomes",  "urban heat islands",    "medieval manuscripts",
    "protein folding",     "energy storage",    "Alpine glaciers",       "rare diseases",
    "school inequalities", "wine fermentation", "Mediterranean forests", "power grids",
    "regional languages",  "seismic hazard",    "antibiotic resistance", "wetland birds"};

constexpr std::array<std::string_view, 8> kSettings = {"in the Nouvelle-Aquitaine region",
                                                       "across European cities",
                                                       "in a changing climate",
                                                       "for public policy",
                                                       "at the nanoscale",
                                                       "from archives to data",
                                                       "in overseas territories",
                                                       "under extreme conditions"};

constexpr std::array<std::string_view, 6> kStatuses = {"draft",   "submitted", "accepted",
                                                       "running", "finished",  "rejected"};

constexpr std::string_view kRnsrKeyLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";

// ASCII lower case of a name for an e-mail address: the few accented letters the name lists
// hold lose their accent, the other non-letters go.
std::string mail_form(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, char>, 9> kFolds = {{{"é", 'e'},
                                                                               {"è", 'e'},
                                                                               {"ê", 'e'},
                                                                               {"ë", 'e'},
                                                                               {"É", 'e'},
                                                                               {"ç", 'c'},
                                                                               {"ô", 'o'},
                                                                               {"ï", 'i'},
                                                                               {"î", 'i'}}};
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    bool folded = false;
    for (const auto& [from, to] : kFolds) {
      if (name.substr(i, from.size()) == from) {
        out.push_back(to);
        i += from.size();
        folded = true;
        break;
      }
    }
    if (folded) continue;
    char c = name[i++];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c >= 'a' && c <= 'z') out.push_back(c);
  }
  return out;
}

// Appends `"key":"value"` (with a leading comma); values hold no quote, backslash or control.
void add_text(std::string& line, std::string_view key, std::string_view value) {
  line += ",\"";
  line += key;
  line += "\":\"";
  line += value;
  line += '"';
}

}  // namespace

std::string orcid_of(std::uint64_t payload) {
  std::string digits(15, '0');
  for (std::size_t i = digits.size(); i-- > 0; payload /= 10) {
    digits[i] = static_cast<char>('0' + payload % 10);
  }
  // ISO 7064 MOD 11-2: fold the digits left to right, doubling modulo 11 at each step; the
  // check value is what brings the folded total to 1.
  int total = 0;
  for (char d : digits) total = (total + (d - '0')) * 2 % 11;
  int check = (12 - total) % 11;
  std::string id;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && i % 4 == 0) id.push_back('-');
    id.push_back(digits[i]);
  }
  id.push_back(check == 10 ? 'X' : static_cast<char>('0' + check));
  return id;
}

std::string rnsr_of(int year, int serial) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%04d%05d", year, serial);
  int rest = 0;
  for (const char* d = digits; *d != '\0'; ++d) rest = (rest * 10 + (*d - '0')) % 23;
  return std::string(digits) + kRnsrKeyLetters[static_cast<std::size_t>(rest)];
}

RecordGenerator::RecordGenerator(std::uint64_t seed, std::uint64_t person_base,
                                 std::size_t structures)
    : rng_(seed), next_person_(person_base) {
  for (std::size_t i = 0; i < structures; ++i) {
    int year = 1995 + static_cast<int>(pick(29));
    structures_.push_back("rnsr:" + rnsr_of(year, static_cast<int>(pick(100000))));
  }
}

GeneratedRecord RecordGenerator::next() {
  return pick(10) < 6 ? project() : person();
}

std::string RecordGenerator::date(int first_year, int years) {
  char text[40];  // room for any int, so that -Wformat-truncation holds
  int year = first_year + static_cast<int>(pick(static_cast<std::size_t>(years)));
  // Days up to 28 are valid in every month.
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", year, 1 + static_cast<int>(pick(12)),
                1 + static_cast<int>(pick(28)));
  return text;
}

std::string RecordGenerator::title() {
  std::string text(kMethods[pick(kMethods.size())]);
  text += pick(2) == 0 ? " of " : " for ";
  text += kSubjects[pick(kSubjects.size())];
  text += ' ';
  text += kSettings[pick(kSettings.size())];
  return text;
}

std::string RecordGenerator::acronym() {
  static constexpr std::string_view kConsonants = "BCDFGKLMNPRSTVZ";
  static constexpr std::string_view kVowels = "AEIOU";
  std::string text;
  std::size_t syllables = 2 + pick(2);
  for (std::size_t i = 0; i < syllables; ++i) {
    text.push_back(kConsonants[pick(kConsonants.size())]);
    text.push_back(kVowels[pick(kVowels.size())]);
  }
  if (pick(4) == 0) text += std::to_string(2 + pick(8));
  return text;
}

GeneratedRecord RecordGenerator::project() {
  std::string start = date(2012, 14);
  std::string end = std::to_string(std::stoi(start.substr(0, 4)) + 2 + static_cast<int>(pick(4)));
  end += start.substr(4);
  char budget[32];
  std::snprintf(budget, sizeof budget, "%zu.%02zu", 20000 + pick(1980000), pick(100));

  std::string line = "{\"type\":\"project\"";
  add_text(line, "title", title());
  add_text(line, "acronym", acronym());
  add_text(line, "budget", budget);
  add_text(line, "start", start);
  add_text(line, "end", end);
  add_text(line, "status", kStatuses[pick(kStatuses.size())]);
  std::size_t first = pick(structures_.size());
  line += ",\"structures\":[\"" + structures_[first] + '"';
  if (pick(3) == 0) line += ",\"" + structures_[(first + 1 + pick(10)) % structures_.size()] + '"';
  line += "]}";
  return GeneratedRecord{"project", "", std::move(line)};
}

GeneratedRecord RecordGenerator::person() {
  // Payloads in the block ORCID issues, 0000-0001-5000-000… to 0000-0003-4999-999…; the
  // multiplier is prime to the span, so person numbers below 2·10^7 give distinct ORCIDs.
  constexpr std::uint64_t kFirst = 15'000'000;
  constexpr std::uint64_t kSpan = 20'000'000;
  std::uint64_t number = next_person_++;
  std::string orcid = orcid_of(kFirst + number * 2'654'435'761 % kSpan);
  std::string_view family = kFamilyNames[pick(kFamilyNames.size())];
  std::string_view given = kGivenNames[pick(kGivenNames.size())];
  std::string email = mail_form(given) + "." + mail_form(family);
  if (pick(3) == 0) email += std::to_string(1 + pick(99));
  email += "@univ-exemple.fr";

  std::string line = "{\"type\":\"person\"";
  add_text(line, "family_name", family);
  add_text(line, "given_name", given);
  add_text(line, "orcid", orcid);
  add_text(line, "email", email);
  line += '}';
  return GeneratedRecord{"person", "orcid:" + orcid, std::move(line)};
}

}  // namespace tutelle::bench
