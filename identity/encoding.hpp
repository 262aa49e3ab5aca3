#pragma once
// The encodings of SAML bindings and of session tokens: base64 (RFC 4648 §4), base64url without
// padding (§5), percent-encoding of URLs and forms, and raw DEFLATE (RFC 1951) of the
// HTTP-Redirect binding.

#include <map>
#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace tutelle::identity {

std::string base64_encode(std::string_view bytes);
// Accepts padding and ignores ASCII whitespace (IdPs wrap long values); refuses anything else.
Result<std::string> base64_decode(std::string_view text);

std::string base64url_encode(std::string_view bytes);
// Refuses padding, whitespace and the characters of plain base64.
Result<std::string> base64url_decode(std::string_view text);

// Percent-encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view text);
// Decodes %XX and, for forms, '+' as a space; refuses a truncated or non-hex escape.
Result<std::string> url_decode(std::string_view text);

// Splits `a=1&b=2` (a query string or an application/x-www-form-urlencoded body). A name given
// twice is refused: a duplicated SAMLResponse must not let two parsers see two messages.
Result<std::map<std::string, std::string>> parse_form(std::string_view text);

// Raw DEFLATE, as the HTTP-Redirect binding wants it (no zlib header, no checksum).
Result<std::string> deflate_raw(std::string_view bytes);

}  // namespace tutelle::identity
