#include "identity/encoding.hpp"

#include <zlib.h>

#include <array>
#include <cctype>
#include <cstdint>

namespace tutelle::identity {

namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 0x3f]);
  while (pad && out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::array<int, 256> reverse(std::string_view alphabet) {
  std::array<int, 256> table{};
  table.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  }
  return table;
}

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Decodes `text` with `alphabet`; `padded` allows '=' at the end and whitespace anywhere.
Result<std::string> decode(std::string_view text, std::string_view alphabet, bool padded) {
  static const auto plain = reverse(kBase64);
  static const auto url = reverse(kBase64url);
  const auto& table = alphabet == kBase64 ? plain : url;
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char c : text) {
    if (padded && is_space(c)) continue;
    if (padded && c == '=') {
      ++padding;
      continue;
    }
    int value = table[static_cast<unsigned char>(c)];
    if (value < 0 || padding > 0) {
      return make_error(ErrorCode::corrupt, "base64: unexpected character in the text");
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (padding > 2 || bits >= 6) return make_error(ErrorCode::corrupt, "base64: truncated text");
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Turns a zlib return code into an Error naming the operation.
Error zlib_error(int rc, std::string_view operation) {
  return make_error(ErrorCode::internal, "zlib: " + std::string(operation) + " failed (code " +
                                             std::to_string(rc) + ")");
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  return encode(bytes, kBase64, true);
}

Result<std::string> base64_decode(std::string_view text) {
  return decode(text, kBase64, true);
}

std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, kBase64url, false);
}

Result<std::string> base64url_decode(std::string_view text) {
  return decode(text, kBase64url, false);
}

std::string url_encode(std::string_view text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    out.push_back('%');
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

Result<std::string> url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] != '%') {
      out.push_back(text[i]);
    } else {
      int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return make_error(ErrorCode::corrupt, "url: a bad %-escape at offset " + std::to_string(i));
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_form(std::string_view text) {
  std::map<std::string, std::string> fields;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    auto equals = pair.find('=');
    auto name = url_decode(pair.substr(0, equals));
    auto value = url_decode(equals == std::string_view::npos ? "" : pair.substr(equals + 1));
    if (!name) return name.error();
    if (!value) return value.error();
    if (!fields.emplace(name.value(), value.value()).second) {
      return make_error(ErrorCode::corrupt, "form: the field " + name.value() + " is repeated");
    }
  }
  return fields;
}

Result<std::string> deflate_raw(std::string_view bytes) {
  z_stream stream{};
  int rc = deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) return zlib_error(rc, "deflateInit2");
  std::string out(deflateBound(&stream, bytes.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) return zlib_error(rc, "deflate");
  return out;
}

}  // namespace tutelle::identity
