#pragma once
// Generated records for benchmarks: plausible projects and people of one establishment, valid
// for the catalogue (protocol/catalogue.hpp), as JSON Lines lines that `tutelle-node import`
// reads (node/import.hpp).
//
// A generator is deterministic: the same seed and person_base give the same lines. People get
// distinct ORCIDs (a bijection of their number, with the ISO 7064 MOD 11-2 check character), so
// generators whose person numbers do not overlap, all below 2·10^7, never share a person.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tutelle::bench {

struct GeneratedRecord {
  std::string type;        // "project" or "person"
  std::string natural_id;  // "orcid:…" for a person; empty for a project (its node mints it)
  std::string line;        // one JSON object, without the newline
};

// The ORCID whose 15-digit payload is `payload` (< 10^15), with its check character, e.g.
// 0000-0002-1825-0097.
std::string orcid_of(std::uint64_t payload);

// The RNSR number of year `year` and serial `serial` (< 10^5), with its key letter.
std::string rnsr_of(int year, int serial);

class RecordGenerator {
 public:
  // `person_base`: the number of the first person; people are numbered from it upwards.
  // `structures`: how many research units the projects are spread over.
  RecordGenerator(std::uint64_t seed, std::uint64_t person_base, std::size_t structures = 150);

  // About 60% projects and 40% people.
  GeneratedRecord next();
  GeneratedRecord project();
  GeneratedRecord person();

 private:
  std::size_t pick(std::size_t count) { return static_cast<std::size_t>(rng_() % count); }
  std::string date(int first_year, int years);
  std::string title();
  std::string acronym();

  std::mt19937_64 rng_;
  std::uint64_t next_person_;
  std::vector<std::string> structures_;  // record ids "rnsr:…"
};

}  // namespace tutelle::bench
