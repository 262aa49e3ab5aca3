#pragma once
// A frame's payload as a wire::Message (protocol/wire.capnp): encoding, and decoding bytes
// that came from a peer, so untrusted, with Cap'n Proto's traversal limits set.
//
// Usage:
//   capnp::MallocMessageBuilder builder;
//   builder.initRoot<wire::Message>().initRefuse().setReason("not enrolled");
//   co_await connection.write_frame(encode_message(builder));
//
//   Result<std::string> reason = read_message(frame, "a refusal from " + peer,
//       [](wire::Message::Reader message) -> Result<std::string> {
//         if (!message.isRefuse()) return make_error(ErrorCode::corrupt, "not a refusal");
//         return std::string(message.getRefuse().getReason().cStr());
//       });
//
// Cap'n Proto checks bounds lazily, while fields are read, and throws kj::Exception. So the
// reading happens inside read_message, which turns any such exception into Error corrupt; copy
// what you need into our own types there and do not keep Readers past it.

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "protocol/result.hpp"
#include "protocol/wire.capnp.h"

namespace tutelle::net {

// The flat-array encoding of the message `builder` holds.
std::string encode_message(capnp::MessageBuilder& builder);

// Limits for decoding a payload of `size` bytes: nesting at most 16 deep, and at most a small
// multiple of its own size read in all. The multiple lets a reader look at a field more than
// once, while a message whose pointers overlap (to read as far more than it weighs) is cut off.
capnp::ReaderOptions reader_options(std::size_t size);

namespace detail {

// The payload copied into word-aligned memory, as Cap'n Proto needs; Error corrupt when its
// size is not a whole number of words.
Result<kj::Array<capnp::word>> aligned_words(std::string_view payload, std::string_view what);

Error decode_error(std::string_view what, const kj::Exception& exception);
Error trailing_bytes_error(std::string_view what);

}  // namespace detail

// Decodes `payload` and gives `read(root)`, a Result<T>. `what` names the message and its
// sender in errors ("a hello from 127.0.0.1:5000").
template <typename Read>
auto read_message(std::string_view payload, std::string_view what, Read&& read)
    -> std::invoke_result_t<Read, wire::Message::Reader> {
  auto words = detail::aligned_words(payload, what);
  if (!words) return words.error();

  try {
    capnp::FlatArrayMessageReader reader(*words, reader_options(payload.size()));
    if (reader.getEnd() != words->end()) return detail::trailing_bytes_error(what);
    return std::forward<Read>(read)(reader.getRoot<wire::Message>());
  } catch (const kj::Exception& exception) {
    return detail::decode_error(what, exception);
  }
}

}  // namespace tutelle::net
