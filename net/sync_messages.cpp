#include "net/sync_messages.hpp"

#include <capnp/message.h>

#include "net/message.hpp"
#include "protocol/wire.capnp.h"

namespace tutelle::net {

namespace {

kj::ArrayPtr<const capnp::byte> bytes_of(std::string_view text) {
  return {reinterpret_cast<const capnp::byte*>(text.data()), text.size()};
}

std::string text_of(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

AckOutcome outcome_of(wire::Outcome outcome) {
  switch (outcome) {
    case wire::Outcome::ACCEPTED: return AckOutcome::accepted;
    case wire::Outcome::DUPLICATE: return AckOutcome::duplicate;
    case wire::Outcome::REFUSED: return AckOutcome::refused;
    case wire::Outcome::GAP: return AckOutcome::gap;
    case wire::Outcome::FORK: return AckOutcome::fork;
  }
  return AckOutcome::refused;
}

Result<SyncMessage> convert(wire::Message::Reader message) {
  SyncMessage out;
  switch (message.which()) {
    case wire::Message::HEAD:
      out.kind = SyncMessage::Kind::head;
      out.seq = message.getHead().getSeq();
      return out;
    case wire::Message::PUSH:
      out.kind = SyncMessage::Kind::push;
      out.changeset = text_of(message.getPush().getChangeset());
      return out;
    case wire::Message::ACK: {
      auto ack = message.getAck();
      out.kind = SyncMessage::Kind::ack;
      out.seq = ack.getSeq();
      out.outcome = outcome_of(ack.getOutcome());
      out.reason = ack.getReason().cStr();
      out.expected = ack.getExpected();
      out.hub_seq = ack.getHubSeq();
      return out;
    }
    case wire::Message::PULL:
      out.kind = SyncMessage::Kind::pull;
      for (auto cursor : message.getPull().getCursors()) {
        out.cursors[cursor.getScope().cStr()] = cursor.getHubSeq();
      }
      return out;
    case wire::Message::DELIVER:
      out.kind = SyncMessage::Kind::deliver;
      for (auto entry : message.getDeliver().getEntries()) {
        out.entries.push_back(
            Delivered{entry.getHubSeq(), entry.getScope().cStr(), text_of(entry.getChangeset())});
      }
      return out;
    case wire::Message::CAUGHT_UP:
      out.kind = SyncMessage::Kind::caught_up;
      out.hub_seq = message.getCaughtUp().getHubSeq();
      return out;
    case wire::Message::DROP:
      out.kind = SyncMessage::Kind::drop;
      out.scope = message.getDrop().getScope().cStr();
      return out;
    case wire::Message::DROPPED:
      out.kind = SyncMessage::Kind::dropped;
      out.scope = message.getDropped().getScope().cStr();
      return out;
    case wire::Message::REFUSE:
      out.kind = SyncMessage::Kind::refuse;
      out.reason = message.getRefuse().getReason().cStr();
      return out;
    default: return make_error(ErrorCode::corrupt, "a handshake or unknown message during sync");
  }
}

}  // namespace

std::string head_message(std::uint64_t seq) {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::Message>().initHead().setSeq(seq);
  return encode_message(builder);
}

std::string push_message(std::string_view changeset) {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::Message>().initPush().setChangeset(bytes_of(changeset));
  return encode_message(builder);
}

std::string ack_message(std::uint64_t seq, AckOutcome outcome, std::string_view reason,
                        std::uint64_t expected, std::uint64_t hub_seq) {
  capnp::MallocMessageBuilder builder;
  auto ack = builder.initRoot<wire::Message>().initAck();
  ack.setSeq(seq);
  ack.setOutcome(static_cast<wire::Outcome>(static_cast<std::uint16_t>(outcome)));
  ack.setReason(std::string(reason));
  ack.setExpected(expected);
  ack.setHubSeq(hub_seq);
  return encode_message(builder);
}

std::string pull_message(const std::map<std::string, std::uint64_t>& cursors) {
  capnp::MallocMessageBuilder builder;
  auto list = builder.initRoot<wire::Message>().initPull().initCursors(
      static_cast<unsigned>(cursors.size()));
  unsigned i = 0;
  for (const auto& [scope, hub_seq] : cursors) {
    list[i].setScope(scope);
    list[i].setHubSeq(hub_seq);
    ++i;
  }
  return encode_message(builder);
}

std::string deliver_message(const std::vector<Delivered>& entries) {
  capnp::MallocMessageBuilder builder;
  auto list = builder.initRoot<wire::Message>().initDeliver().initEntries(
      static_cast<unsigned>(entries.size()));
  for (unsigned i = 0; i < entries.size(); ++i) {
    list[i].setHubSeq(entries[i].hub_seq);
    list[i].setScope(entries[i].scope);
    list[i].setChangeset(bytes_of(entries[i].changeset));
  }
  return encode_message(builder);
}

std::string caught_up_message(std::uint64_t hub_seq) {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::Message>().initCaughtUp().setHubSeq(hub_seq);
  return encode_message(builder);
}

std::string refuse_message(std::string_view reason) {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::Message>().initRefuse().setReason(std::string(reason));
  return encode_message(builder);
}

std::string drop_message(std::string_view scope) {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::Message>().initDrop().setScope(std::string(scope));
  return encode_message(builder);
}

std::string dropped_message(std::string_view scope) {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::Message>().initDropped().setScope(std::string(scope));
  return encode_message(builder);
}

Result<SyncMessage> read_sync_message(std::string_view payload, std::string_view what) {
  return read_message(payload, what, convert);
}

}  // namespace tutelle::net
