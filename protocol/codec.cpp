#include "protocol/codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <sodium.h>

#include <cstring>

#include "protocol/tutelle.capnp.h"

namespace tutelle {

namespace {

// Untrusted messages: at most this many words read per word received, and this nesting depth.
constexpr std::uint64_t kTraversalFactor = 8;
constexpr int kNestingLimit = 16;

std::string words_to_string(kj::ArrayPtr<const capnp::word> words) {
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Text of a known length: spares Cap'n Proto a strlen() per field.
capnp::Text::Reader text(const std::string& value) {
  return capnp::Text::Reader(value.c_str(), value.size());
}

kj::ArrayPtr<const capnp::byte> as_bytes(std::string_view text) {
  return {reinterpret_cast<const capnp::byte*>(text.data()), text.size()};
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_bytes(capnp::Data::Reader data, const char* what) {
  std::array<std::uint8_t, N> out{};
  if (data.size() != N) {
    return make_error(ErrorCode::corrupt, std::string(what) + " has " +
                                              std::to_string(data.size()) + " bytes, not " +
                                              std::to_string(N));
  }
  std::memcpy(out.data(), data.begin(), N);
  return out;
}

// Reads a canonical single-segment message from bytes that may be unaligned and untrusted,
// and converts its root with `convert` inside one try block.
template <typename Root, typename Convert>
auto read_canonical(std::string_view bytes, const char* what, Convert&& convert)
    -> decltype(convert(std::declval<typename Root::Reader>())) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return make_error(ErrorCode::corrupt, std::string(what) + ": " + std::to_string(bytes.size()) +
                                              " bytes is not a whole number of words");
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words.size() * kTraversalFactor + 64;
  options.nestingLimit = kNestingLimit;
  kj::ArrayPtr<const capnp::word> segments[1] = {words.asPtr()};
  try {
    capnp::SegmentArrayMessageReader reader(kj::arrayPtr(segments, 1), options);
    return convert(reader.getRoot<Root>());
  } catch (const kj::Exception& e) {
    return make_error(ErrorCode::corrupt,
                      std::string(what) + " does not decode: " + e.getDescription().cStr());
  }
}

void write_value(schema::Value::Builder out, const Value& value) {
  if (auto* text = std::get_if<std::string>(&value.data)) {
    out.setText(capnp::Text::Reader(text->c_str(), text->size()));
  } else if (auto* integer = std::get_if<std::int64_t>(&value.data)) {
    out.setInteger(*integer);
  } else if (auto* boolean = std::get_if<bool>(&value.data)) {
    out.setBoolean(*boolean);
  } else {
    out.setNone();
  }
}

Value read_value(schema::Value::Reader in) {
  switch (in.which()) {
    case schema::Value::TEXT: return Value{std::string(in.getText().cStr())};
    case schema::Value::INTEGER: return Value{in.getInteger()};
    case schema::Value::BOOLEAN: return Value{in.getBoolean()};
    default: return Value{};
  }
}

void write_dot(schema::Dot::Builder out, const Dot& dot) {
  out.setOrigin(kj::arrayPtr(dot.origin.data(), dot.origin.size()));
  out.setSeq(dot.seq);
  out.setIndex(dot.index);
}

Result<Dot> read_dot(schema::Dot::Reader in) {
  auto origin = fixed_bytes<32>(in.getOrigin(), "dot origin");
  if (!origin) return origin.error();
  return Dot{origin.value(), in.getSeq(), in.getIndex()};
}

void write_dots(capnp::List<schema::Dot>::Builder out, const std::vector<Dot>& dots) {
  for (unsigned i = 0; i < dots.size(); ++i) write_dot(out[i], dots[i]);
}

Result<std::vector<Dot>> read_dots(capnp::List<schema::Dot>::Reader in) {
  std::vector<Dot> dots;
  dots.reserve(in.size());
  for (auto dot : in) {
    auto read = read_dot(dot);
    if (!read) return read.error();
    dots.push_back(read.value());
  }
  return dots;
}

void write_assign(schema::Operation::Assign::Builder out, const Operation& op) {
  write_value(out.initValue(), op.value);
  write_dots(out.initSupersedes(static_cast<unsigned>(op.dots.size())), op.dots);
}

void write_operation(schema::Operation::Builder out, const Operation& op) {
  out.setRecord(text(op.record));
  out.setType(text(op.type));
  out.setField(text(op.field));
  auto count = static_cast<unsigned>(op.dots.size());
  switch (op.kind) {
    case OpKind::set: write_assign(out.initSet(), op); break;
    case OpKind::resolve: write_assign(out.initResolve(), op); break;
    case OpKind::add: write_value(out.initAdd(), op.value); break;
    case OpKind::remove: write_dots(out.initRemove(count), op.dots); break;
    case OpKind::delete_record: write_dots(out.initDelete(count), op.dots); break;
  }
}

Status read_assign(schema::Operation::Assign::Reader in, Operation& op) {
  op.value = read_value(in.getValue());
  auto dots = read_dots(in.getSupersedes());
  if (!dots) return dots.error();
  op.dots = std::move(dots.value());
  return {};
}

Result<Operation> read_operation(schema::Operation::Reader in) {
  Operation op;
  op.record = in.getRecord().cStr();
  op.type = in.getType().cStr();
  op.field = in.getField().cStr();
  Status status;
  switch (in.which()) {
    case schema::Operation::SET:
      op.kind = OpKind::set;
      status = read_assign(in.getSet(), op);
      break;
    case schema::Operation::RESOLVE:
      op.kind = OpKind::resolve;
      status = read_assign(in.getResolve(), op);
      break;
    case schema::Operation::ADD:
      op.kind = OpKind::add;
      op.value = read_value(in.getAdd());
      break;
    case schema::Operation::REMOVE:
    case schema::Operation::DELETE: {
      bool remove = in.which() == schema::Operation::REMOVE;
      op.kind = remove ? OpKind::remove : OpKind::delete_record;
      auto dots = read_dots(remove ? in.getRemove() : in.getDelete());
      if (!dots) return dots.error();
      op.dots = std::move(dots.value());
      break;
    }
    default: return make_error(ErrorCode::corrupt, "operation of an unknown kind");
  }
  if (!status) return status.error();
  return op;
}

Result<Changeset> read_changeset(schema::Changeset::Reader in) {
  Changeset changeset;
  changeset.version = in.getVersion();
  auto origin = fixed_bytes<32>(in.getOrigin(), "changeset origin");
  if (!origin) return origin.error();
  changeset.origin = origin.value();
  auto prev = fixed_bytes<32>(in.getPrev(), "changeset prev");
  if (!prev) return prev.error();
  changeset.prev = prev.value();
  changeset.establishment = in.getEstablishment().cStr();
  changeset.seq = in.getSeq();
  changeset.hlc = in.getHlc();
  changeset.author = in.getAuthor().cStr();
  changeset.scope = in.getScope().cStr();
  changeset.operations.reserve(in.getOperations().size());
  for (auto op : in.getOperations()) {
    auto read = read_operation(op);
    if (!read)
      return read.error().context("operation " + std::to_string(changeset.operations.size()));
    changeset.operations.push_back(std::move(read.value()));
  }
  return changeset;
}

Result<RecordState> read_record(schema::RecordState::Reader in) {
  RecordState record;
  record.id = in.getId().cStr();
  record.type = in.getType().cStr();
  record.home = in.getHome().cStr();
  record.fields.reserve(in.getFields().size());
  for (auto field : in.getFields()) {
    FieldState state;
    state.name = field.getName().cStr();
    state.entries.reserve(field.getEntries().size());
    for (auto entry : field.getEntries()) {
      auto dot = read_dot(entry.getDot());
      if (!dot) return dot.error();
      state.entries.push_back(Entry{dot.value(), entry.getHlc(), entry.getEstablishment().cStr(),
                                    read_value(entry.getValue())});
    }
    record.fields.push_back(std::move(state));
  }
  return record;
}

}  // namespace

std::string encode_changeset_body(const Changeset& changeset) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Changeset>();
  root.setVersion(changeset.version);
  root.setOrigin(kj::arrayPtr(changeset.origin.data(), changeset.origin.size()));
  root.setEstablishment(text(changeset.establishment));
  root.setSeq(changeset.seq);
  root.setPrev(kj::arrayPtr(changeset.prev.data(), changeset.prev.size()));
  root.setHlc(changeset.hlc);
  root.setAuthor(text(changeset.author));
  root.setScope(text(changeset.scope));
  auto ops = root.initOperations(static_cast<unsigned>(changeset.operations.size()));
  for (unsigned i = 0; i < changeset.operations.size(); ++i) {
    write_operation(ops[i], changeset.operations[i]);
  }
  return words_to_string(capnp::canonicalize(root.asReader()));
}

Result<Changeset> decode_changeset_body(std::string_view bytes) {
  return read_canonical<schema::Changeset>(bytes, "changeset body", read_changeset);
}

HashBytes blake2b_256(std::string_view bytes) {
  HashBytes out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return out;
}

std::string encode_signed(const SignedChangeset& signed_changeset) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::SignedChangeset>();
  root.setOrigin(kj::arrayPtr(signed_changeset.origin.data(), 32));
  root.setBody(as_bytes(signed_changeset.body));
  root.setSignature(kj::arrayPtr(signed_changeset.signature.data(), 64));
  return words_to_string(capnp::canonicalize(root.asReader()));
}

Result<SignedChangeset> decode_signed(std::string_view bytes) {
  auto convert = [](schema::SignedChangeset::Reader in) -> Result<SignedChangeset> {
    SignedChangeset out;
    auto origin = fixed_bytes<32>(in.getOrigin(), "signed changeset origin");
    if (!origin) return origin.error();
    auto signature = fixed_bytes<64>(in.getSignature(), "signed changeset signature");
    if (!signature) return signature.error();
    out.origin = origin.value();
    out.signature = signature.value();
    auto body = in.getBody();
    out.body.assign(reinterpret_cast<const char*>(body.begin()), body.size());
    return out;
  };
  return read_canonical<schema::SignedChangeset>(bytes, "signed changeset", convert);
}

std::string encode_record(const RecordState& record) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::RecordState>();
  root.setId(text(record.id));
  root.setType(text(record.type));
  root.setHome(text(record.home));
  auto fields = root.initFields(static_cast<unsigned>(record.fields.size()));
  for (unsigned f = 0; f < record.fields.size(); ++f) {
    const FieldState& state = record.fields[f];
    fields[f].setName(text(state.name));
    auto entries = fields[f].initEntries(static_cast<unsigned>(state.entries.size()));
    for (unsigned e = 0; e < state.entries.size(); ++e) {
      write_dot(entries[e].initDot(), state.entries[e].dot);
      entries[e].setHlc(state.entries[e].hlc);
      entries[e].setEstablishment(text(state.entries[e].establishment));
      write_value(entries[e].initValue(), state.entries[e].value);
    }
  }
  return words_to_string(capnp::canonicalize(root.asReader()));
}

Result<RecordState> decode_record(std::string_view bytes) {
  return read_canonical<schema::RecordState>(bytes, "record", read_record);
}

std::string hex(const std::uint8_t* bytes, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0xf]);
  }
  return out;
}

}  // namespace tutelle
