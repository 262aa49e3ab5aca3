#include "net/message.hpp"

#include <algorithm>
#include <cstring>

namespace tutelle::net {

namespace {

constexpr std::uint64_t kTraversalMultiple = 4;
constexpr std::uint64_t kTraversalFloorWords = 64;
constexpr int kNestingLimit = 16;

}  // namespace

std::string encode_message(capnp::MessageBuilder& builder) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  kj::ArrayPtr<const kj::byte> bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

capnp::ReaderOptions reader_options(std::size_t size) {
  capnp::ReaderOptions options;
  std::uint64_t words = size / sizeof(capnp::word);
  options.traversalLimitInWords = std::max(words * kTraversalMultiple, kTraversalFloorWords);
  options.nestingLimit = kNestingLimit;
  return options;
}

namespace detail {

Result<kj::Array<capnp::word>> aligned_words(std::string_view payload, std::string_view what) {
  if (payload.empty() || payload.size() % sizeof(capnp::word) != 0) {
    return make_error(ErrorCode::corrupt, std::string(what) + ": " +
                                              std::to_string(payload.size()) +
                                              " bytes are not a whole number of 8-byte words");
  }
  // TODO(perf): one copy per frame; reading frames straight into word-aligned buffers would
  // save it.
  auto words = kj::heapArray<capnp::word>(payload.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), payload.data(), payload.size());
  return words;
}

Error decode_error(std::string_view what, const kj::Exception& exception) {
  return make_error(ErrorCode::corrupt,
                    std::string(what) + ": does not decode: " + exception.getDescription().cStr());
}

Error trailing_bytes_error(std::string_view what) {
  return make_error(ErrorCode::corrupt,
                    std::string(what) + ": bytes follow the end of the message");
}

}  // namespace detail

}  // namespace tutelle::net
