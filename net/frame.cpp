#include "net/frame.hpp"

#include <optional>

#include <boost/asio/error.hpp>

namespace tutelle::net {

void append_frame(std::string& out, std::string_view payload) {
  auto header = detail::encode_frame_length(static_cast<std::uint32_t>(payload.size()));
  out.append(header.begin(), header.end());
  out.append(payload);
}

}  // namespace tutelle::net

namespace tutelle::net::detail {

std::array<unsigned char, kFrameHeaderSize> encode_frame_length(std::uint32_t length) {
  return {static_cast<unsigned char>(length >> 24), static_cast<unsigned char>(length >> 16),
          static_cast<unsigned char>(length >> 8), static_cast<unsigned char>(length)};
}

std::uint32_t decode_frame_length(const std::array<unsigned char, kFrameHeaderSize>& header) {
  return std::uint32_t{header[0]} << 24 | std::uint32_t{header[1]} << 16 |
         std::uint32_t{header[2]} << 8 | std::uint32_t{header[3]};
}

namespace {

// How the peer ended the stream, when `ec` says it did: "closed" (with or without a TLS
// close_notify) or "reset" (a crash, or data it never read).
std::optional<std::string> how_peer_ended(const boost::system::error_code& ec) {
  if (is_end_of_stream(ec)) return "closed";
  if (ec == boost::asio::error::connection_reset) return "reset";
  return std::nullopt;
}

}  // namespace

Error header_read_error(const boost::system::error_code& ec, std::size_t got,
                        std::string_view peer) {
  std::optional<std::string> ended = how_peer_ended(ec);
  if (!ended) return network_error(ec, "read a frame from", peer);
  if (got == 0) {
    return make_error(ErrorCode::network, std::string(peer) + " " + *ended + " the connection");
  }
  return make_error(ErrorCode::network, "truncated frame from " + std::string(peer) +
                                            ": the connection was " + *ended + " after " +
                                            std::to_string(got) + " of the 4 bytes of its length");
}

Error payload_read_error(const boost::system::error_code& ec, std::size_t got, std::size_t length,
                         std::string_view peer) {
  std::optional<std::string> ended = how_peer_ended(ec);
  if (!ended) return network_error(ec, "read a frame from", peer);
  return make_error(ErrorCode::network, "truncated frame from " + std::string(peer) +
                                            ": the connection was " + *ended + " after " +
                                            std::to_string(got) + " of its " +
                                            std::to_string(length) + " payload bytes");
}

Error oversized_frame_error(std::size_t length, std::size_t limit, std::string_view peer) {
  return make_error(ErrorCode::corrupt, "frame from " + std::string(peer) + " announces " +
                                            std::to_string(length) + " bytes, above the limit of " +
                                            std::to_string(limit) + " bytes; not read");
}

Error oversized_write_error(std::size_t length, std::size_t limit, std::string_view peer) {
  return make_error(ErrorCode::invalid_argument,
                    "frame of " + std::to_string(length) + " bytes for " + std::string(peer) +
                        " is above the limit of " + std::to_string(limit) + " bytes; not sent");
}

Error timed_out_error(std::string_view what, std::chrono::milliseconds timeout) {
  return make_error(ErrorCode::network, std::string(what) + " timed out after " +
                                            std::to_string(timeout.count()) + " ms");
}

}  // namespace tutelle::net::detail
