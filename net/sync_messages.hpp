#pragma once
// The sync messages of protocol/wire.capnp ("Sync"), built and read as plain structs so that
// hub and node never hold Cap'n Proto readers past the decoding of a frame.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

namespace tutelle::net {

enum class AckOutcome { accepted, duplicate, refused, gap, fork };

struct Delivered {
  std::uint64_t hub_seq = 0;
  std::string scope;
  std::string changeset;  // SignedChangeset bytes
};

// One received sync message: `kind` says which members are set.
struct SyncMessage {
  enum class Kind { head, push, ack, pull, deliver, caught_up, refuse, drop, dropped };
  Kind kind = Kind::refuse;
  std::uint64_t seq = 0;                         // head, ack
  std::string changeset;                         // push
  AckOutcome outcome = AckOutcome::refused;      // ack
  std::string reason;                            // ack, refuse
  std::string scope;                             // drop, dropped
  std::uint64_t expected = 0;                    // ack (gap)
  std::uint64_t hub_seq = 0;                     // ack (accepted), caught_up
  std::map<std::string, std::uint64_t> cursors;  // pull
  std::vector<Delivered> entries;                // deliver
};

std::string head_message(std::uint64_t seq);
std::string push_message(std::string_view changeset);
std::string ack_message(std::uint64_t seq, AckOutcome outcome, std::string_view reason,
                        std::uint64_t expected, std::uint64_t hub_seq);
std::string pull_message(const std::map<std::string, std::uint64_t>& cursors);
std::string deliver_message(const std::vector<Delivered>& entries);
std::string caught_up_message(std::uint64_t hub_seq);
std::string refuse_message(std::string_view reason);
std::string drop_message(std::string_view scope);
std::string dropped_message(std::string_view scope);

// Decodes one frame from a peer (untrusted: limits set); `what` names it in errors. A
// handshake message here is refused as out of order.
Result<SyncMessage> read_sync_message(std::string_view payload, std::string_view what);

}  // namespace tutelle::net
