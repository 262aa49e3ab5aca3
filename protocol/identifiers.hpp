#pragma once
// Identifier kinds of research information and their validation. Each validator checks the
// syntax and, where the scheme has one, the check digit or letter, and returns the value in its
// normalised form (the form stored, indexed and compared).

#include <optional>
#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace tutelle {

enum class IdentifierKind {
  orcid,       // 0000-0002-1825-0097; ISO 7064 mod 11-2 check character
  uai,         // 0342321N; 7 characters and a key letter
  rnsr,        // 195817959H; year, serial number and a key letter
  ror,         // 02feahw73; Crockford base32 and two ISO 7064 mod 97-10 check digits
  siret,       // 14 digits, Luhn
  siren,       // 9 digits, Luhn
  idref,       // 8 digits and a mod 11 check character (0-9 or X)
  idhal,       // lowercase letters, digits and hyphens
  doi,         // 10.NNNN/suffix, normalised to lower case
  funder_doi,  // a CrossRef Funder Registry DOI: 10.13039/ followed by digits
};

const char* to_string(IdentifierKind kind);
std::optional<IdentifierKind> identifier_kind_from(std::string_view name);

// Returns the normalised identifier, or an invalid_argument Error whose message names `field`,
// the value and the rule it breaks, e.g.
//   orcid: '0000-0002-1825-0098' fails the ISO 7064 mod 11-2 check (expected 7, found 8)
// Accepted input forms: surrounding whitespace; resolver URLs for ORCID (https://orcid.org/…),
// ROR (https://ror.org/…) and DOIs (https://doi.org/…, doi:…).
Result<std::string> validate_identifier(IdentifierKind kind, std::string_view field,
                                        std::string_view value);

}  // namespace tutelle
