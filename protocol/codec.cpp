#include "protocol/codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <capnp/serialize.h>
#include <sodium.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>
#include <tuple>

#include "protocol/tutelle.capnp.h"

namespace tutelle {

namespace {

// Untrusted messages: at most this many words read per word received, and this nesting depth.
constexpr std::uint64_t kTraversalFactor = 8;
constexpr int kNestingLimit = 16;
// A packed body unpacks to at most this many times its size (plus 64 KiB), and never to more
// than kMaxUnpackedBytes: zero words pack to almost nothing, so the bound must be generous. A
// body's zlib stream inflates to at most four times that bound of its own size.
constexpr std::uint64_t kPackedExpansion = 64;
constexpr std::uint64_t kMaxUnpackedBytes = std::uint64_t{64} << 20;
// zlib's level for changeset bodies: 1, its fastest. Its default, 6, saves 2% more bytes on
// bench_crdt's workload and takes several times as long, on every local edit and import.
constexpr int kDeflateLevel = 1;

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

// The packed form (capnp::writePackedMessage) of one segment of canonical words.
std::string pack(kj::ArrayPtr<const capnp::word> words) {
  kj::VectorOutputStream out(words.size() * sizeof(capnp::word) / 2 + 64);
  kj::ArrayPtr<const capnp::word> segments[1] = {words};
  capnp::writePackedMessage(out, kj::arrayPtr(segments, 1));
  auto written = out.getArray();
  return std::string(reinterpret_cast<const char*>(written.begin()), written.size());
}

// The zlib stream (RFC 1950: deflate, then an Adler-32 of the input) of `bytes`.
std::string deflate_bytes(std::string_view bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size()));
  std::string out(size, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                     reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uLong>(bytes.size()),
                     kDeflateLevel);
  if (rc != Z_OK) throw std::logic_error("compress2 failed: " + std::to_string(rc));
  out.resize(size);
  return out;
}

// Inflates an untrusted zlib stream, refusing one that inflates to more than `limit` bytes, is
// truncated, or has bytes after its end.
Result<std::string> inflate_bytes(std::string_view bytes, std::size_t limit, const char* what) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return make_error(ErrorCode::internal, "inflateInit failed");
  std::string out;
  char chunk[16384];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof(chunk);
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - stream.avail_out);
    if (out.size() > limit) rc = Z_BUF_ERROR;
  }
  std::size_t left = stream.avail_in;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END || left != 0) {
    return make_error(ErrorCode::corrupt, std::string(what) + " does not inflate (zlib " +
                                              std::to_string(rc) + ") within " +
                                              std::to_string(limit) + " bytes");
  }
  return out;
}

// Reads a packed message from untrusted bytes and converts its root with `convert`. The
// unpacked size its segment table declares is refused above a bound set by the packed size,
// before anything is unpacked.
template <typename Root, typename Convert>
auto read_packed(std::string_view bytes, const char* what, Convert&& convert)
    -> decltype(convert(std::declval<typename Root::Reader>())) {
  if (bytes.empty()) return make_error(ErrorCode::corrupt, std::string(what) + " is empty");
  std::uint64_t bound =
      std::min<std::uint64_t>(bytes.size() * kPackedExpansion + 65536, kMaxUnpackedBytes);
  capnp::ReaderOptions options;
  // The reader refuses a declared size above the traversal limit before it allocates; each
  // object is read once, so the limit bounds the reading too.
  options.traversalLimitInWords = bound / sizeof(capnp::word);
  options.nestingLimit = kNestingLimit;
  kj::ArrayInputStream input(as_bytes(bytes));
  try {
    capnp::PackedMessageReader reader(input, options);
    if (input.tryGetReadBuffer().size() != 0) {
      return make_error(ErrorCode::corrupt, std::string(what) + " has bytes after its message");
    }
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

// Gives each distinct key an index, in order of first use.
template <typename Key>
class FirstUse {
 public:
  std::uint32_t index(const Key& key) {
    auto [at, fresh] = indexes_.try_emplace(key, static_cast<std::uint32_t>(keys_.size()));
    if (fresh) keys_.push_back(key);
    return at->second;
  }
  const std::vector<Key>& keys() const { return keys_; }

 private:
  std::map<Key, std::uint32_t> indexes_;
  std::vector<Key> keys_;
};

enum ValueKind : std::uint8_t { kNone, kText, kInteger, kFalse, kTrue };

// The columns of schema::Operations, gathered from a changeset's operations.
struct Columns {
  FirstUse<std::pair<std::string, std::string>> records;  // (id, type)
  std::vector<std::uint32_t> record_types;
  FirstUse<std::string> types;
  FirstUse<std::string> fields;
  FirstUse<KeyBytes> origins;
  FirstUse<std::pair<std::uint32_t, std::uint64_t>> seen;  // (origin code, seq)
  std::vector<std::uint8_t> shapes;
  std::vector<std::uint32_t> record;
  std::vector<std::uint32_t> field;
  std::vector<std::uint32_t> dot_counts;  // of the operations naming 3 dots or more
  std::string texts;
  std::vector<std::uint32_t> text_lengths;
  std::vector<std::int64_t> integers;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> dots;  // (seen index, op index)
};

// Bits of a shape byte (tutelle.capnp, Operations.shapes).
constexpr unsigned kValueShift = 3;
constexpr unsigned kDotsShift = 6;
constexpr std::uint32_t kDotsListed = 3;

// The value's kind, its text or integer gathered into their columns.
std::uint8_t gather_value(Columns& out, const Value& value) {
  if (auto* text = std::get_if<std::string>(&value.data)) {
    out.texts += *text;
    out.text_lengths.push_back(static_cast<std::uint32_t>(text->size()));
    return kText;
  }
  if (auto* integer = std::get_if<std::int64_t>(&value.data)) {
    out.integers.push_back(*integer);
    return kInteger;
  }
  if (auto* boolean = std::get_if<bool>(&value.data)) return *boolean ? kTrue : kFalse;
  return kNone;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The 12 bytes of a random id "<type>:" + 24 lowercase hex digits, or "" for any other id.
std::string random_key(const std::string& id, const std::string& type) {
  constexpr std::size_t kDigits = 24;
  if (id.size() != type.size() + 1 + kDigits || id.compare(0, type.size(), type) != 0 ||
      id[type.size()] != ':') {
    return "";
  }
  std::string key;
  for (std::size_t i = type.size() + 1; i < id.size(); i += 2) {
    int high = hex_digit(id[i]);
    int low = hex_digit(id[i + 1]);
    if (high < 0 || low < 0) return "";
    key.push_back(static_cast<char>(high << 4 | low));
  }
  return key;
}

void gather_operation(Columns& out, const Changeset& changeset, const Operation& op) {
  std::size_t known_records = out.records.keys().size();
  out.record.push_back(out.records.index({op.record, op.type}));
  if (out.records.keys().size() > known_records) {
    bool random = !random_key(op.record, op.type).empty();
    out.record_types.push_back(out.types.index(op.type) * 2 + (random ? 1 : 0));
  }
  out.field.push_back(out.fields.index(op.field));
  auto dots = static_cast<std::uint32_t>(op.dots.size());
  std::uint32_t dots_code = std::min(dots, kDotsListed);
  if (dots_code == kDotsListed) out.dot_counts.push_back(dots);
  std::uint8_t value = gather_value(out, op.value);
  out.shapes.push_back(static_cast<std::uint8_t>(static_cast<unsigned>(op.kind) |
                                                 value << kValueShift | dots_code << kDotsShift));
  for (const Dot& dot : op.dots) {
    std::uint32_t origin = dot.origin == changeset.origin ? 0 : out.origins.index(dot.origin) + 1;
    out.dots.emplace_back(out.seen.index({origin, dot.seq}), dot.index);
  }
}

template <typename T, typename List>
void fill(List list, const std::vector<T>& values) {
  for (unsigned i = 0; i < values.size(); ++i) list.set(i, values[i]);
}

template <typename T>
unsigned count(const std::vector<T>& values) {
  return static_cast<unsigned>(values.size());
}

void write_tables(schema::Operations::Builder out, const Columns& columns) {
  const auto& records = columns.records.keys();
  auto ids = out.initRecords(count(records));
  for (unsigned i = 0; i < records.size(); ++i) {
    std::string key = random_key(records[i].first, records[i].second);
    ids.set(i, as_bytes(key.empty() ? records[i].first : key));
  }
  fill(out.initRecordTypes(count(columns.record_types)), columns.record_types);
  const auto& types = columns.types.keys();
  auto type_names = out.initTypes(count(types));
  for (unsigned i = 0; i < types.size(); ++i) type_names.set(i, text(types[i]));
  const auto& fields = columns.fields.keys();
  auto field_names = out.initFields(count(fields));
  for (unsigned i = 0; i < fields.size(); ++i) field_names.set(i, text(fields[i]));
  const auto& origins = columns.origins.keys();
  auto keys = out.initOrigins(count(origins));
  for (unsigned i = 0; i < origins.size(); ++i) {
    keys.set(i, kj::arrayPtr(origins[i].data(), origins[i].size()));
  }
  const auto& seen = columns.seen.keys();
  auto changesets = out.initChangesets(count(seen));
  for (unsigned i = 0; i < seen.size(); ++i) {
    changesets[i].setOrigin(seen[i].first);
    changesets[i].setSeq(seen[i].second);
  }
}

void write_operations(schema::Operations::Builder out, const Changeset& changeset) {
  Columns columns;
  for (const auto& op : changeset.operations) gather_operation(columns, changeset, op);
  write_tables(out, columns);
  fill(out.initShapes(count(columns.shapes)), columns.shapes);
  fill(out.initRecord(count(columns.record)), columns.record);
  fill(out.initField(count(columns.field)), columns.field);
  fill(out.initDotCounts(count(columns.dot_counts)), columns.dot_counts);
  out.setTexts(as_bytes(columns.texts));
  fill(out.initTextLengths(count(columns.text_lengths)), columns.text_lengths);
  fill(out.initIntegers(count(columns.integers)), columns.integers);
  auto dots = out.initDots(count(columns.dots));
  for (unsigned i = 0; i < columns.dots.size(); ++i) {
    dots[i].setChangeset(columns.dots[i].first);
    dots[i].setIndex(columns.dots[i].second);
  }
}

Error bad_column(const std::string& what) {
  return make_error(ErrorCode::corrupt, "operations: " + what);
}

// The tables of schema::Operations, read and checked.
struct Tables {
  std::vector<std::pair<std::string, std::string>> records;  // (id, type)
  std::vector<std::string> fields;
  std::vector<std::pair<KeyBytes, std::uint64_t>> seen;
};

Result<Tables> read_tables(schema::Operations::Reader in, const KeyBytes& own) {
  Tables tables;
  auto ids = in.getRecords();
  auto record_types = in.getRecordTypes();
  std::vector<std::string> types;
  for (auto type : in.getTypes()) types.emplace_back(type.cStr());
  if (record_types.size() != ids.size()) return bad_column("records and recordTypes differ");
  for (unsigned i = 0; i < ids.size(); ++i) {
    std::uint32_t type = record_types[i] / 2;
    if (type >= types.size()) return bad_column("a record type out of range");
    auto key = ids[i];
    std::string id(reinterpret_cast<const char*>(key.begin()), key.size());
    if (record_types[i] % 2 == 1) {
      if (key.size() != 12) return bad_column("a random id's key is not 12 bytes");
      id = types[type] + ":" + hex(key.begin(), key.size());
    }
    tables.records.emplace_back(std::move(id), types[type]);
  }
  for (auto field : in.getFields()) tables.fields.emplace_back(field.cStr());
  std::vector<KeyBytes> origins;
  for (auto origin : in.getOrigins()) {
    auto key = fixed_bytes<32>(origin, "operations origin");
    if (!key) return key.error();
    origins.push_back(key.value());
  }
  for (auto seen : in.getChangesets()) {
    if (seen.getOrigin() > origins.size()) return bad_column("a changeset origin out of range");
    const KeyBytes& origin = seen.getOrigin() == 0 ? own : origins[seen.getOrigin() - 1];
    tables.seen.emplace_back(origin, seen.getSeq());
  }
  return tables;
}

// Reads the values and dots of the operations in order, checking each against its column.
class ColumnReader {
 public:
  explicit ColumnReader(schema::Operations::Reader in)
      : texts_(in.getTexts()),
        text_lengths_(in.getTextLengths()),
        integers_(in.getIntegers()),
        dot_counts_(in.getDotCounts()),
        dots_(in.getDots()) {}

  // The dot count a shape's code says: the code itself, or the next of dotCounts.
  Result<std::uint32_t> dot_count(std::uint32_t code) {
    if (code < kDotsListed) return code;
    if (next_count_ >= dot_counts_.size()) return bad_column("too few dot counts");
    return dot_counts_[static_cast<unsigned>(next_count_++)];
  }

  Result<Value> value(std::uint8_t kind) {
    switch (kind) {
      case kNone: return Value{};
      case kFalse: return Value{false};
      case kTrue: return Value{true};
      case kInteger:
        if (next_integer_ >= integers_.size()) return bad_column("too few integers");
        return Value{integers_[next_integer_++]};
      case kText: {
        if (next_text_ >= text_lengths_.size()) return bad_column("too few text lengths");
        std::size_t length = text_lengths_[next_text_++];
        if (length > texts_.size() - text_offset_) return bad_column("texts too short");
        const char* begin = reinterpret_cast<const char*>(texts_.begin()) + text_offset_;
        text_offset_ += length;
        return Value{std::string(begin, length)};
      }
      default: return bad_column("value kind " + std::to_string(kind));
    }
  }

  Result<std::vector<Dot>> dots(std::uint32_t count, const Tables& tables) {
    if (count > dots_.size() - next_dot_) return bad_column("too few dots");
    std::vector<Dot> out;
    out.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      auto ref = dots_[static_cast<unsigned>(next_dot_++)];
      if (ref.getChangeset() >= tables.seen.size()) return bad_column("a dot out of range");
      const auto& [origin, seq] = tables.seen[ref.getChangeset()];
      out.push_back(Dot{origin, seq, ref.getIndex()});
    }
    return out;
  }

  // True when every value and dot was read.
  bool exhausted() const {
    return next_text_ == text_lengths_.size() && text_offset_ == texts_.size() &&
           next_integer_ == integers_.size() && next_dot_ == dots_.size() &&
           next_count_ == dot_counts_.size();
  }

 private:
  capnp::Data::Reader texts_;
  capnp::List<std::uint32_t>::Reader text_lengths_;
  capnp::List<std::int64_t>::Reader integers_;
  capnp::List<std::uint32_t>::Reader dot_counts_;
  capnp::List<schema::Operations::DotRef>::Reader dots_;
  std::size_t next_text_ = 0;
  std::size_t text_offset_ = 0;
  std::size_t next_integer_ = 0;
  std::size_t next_dot_ = 0;
  std::size_t next_count_ = 0;
};

Result<std::vector<Operation>> read_operations(schema::Operations::Reader in, const KeyBytes& own) {
  auto tables = read_tables(in, own);
  if (!tables) return tables.error();
  auto shapes = in.getShapes();
  auto record = in.getRecord();
  auto field = in.getField();
  unsigned n = shapes.size();
  if (record.size() != n || field.size() != n) {
    return bad_column("the per-operation columns differ in length");
  }
  ColumnReader columns(in);
  std::vector<Operation> ops(n);
  for (unsigned i = 0; i < n; ++i) {
    Operation& op = ops[i];
    unsigned kind = shapes[i] & 7u;
    if (kind > static_cast<unsigned>(OpKind::merge)) {
      return bad_column("operation " + std::to_string(i) + " of an unknown kind");
    }
    if (record[i] >= tables->records.size() || field[i] >= tables->fields.size()) {
      return bad_column("operation " + std::to_string(i) + " names a record or field out of range");
    }
    op.kind = static_cast<OpKind>(kind);
    std::tie(op.record, op.type) = tables->records[record[i]];
    op.field = tables->fields[field[i]];
    auto value = columns.value(static_cast<std::uint8_t>((shapes[i] >> kValueShift) & 7u));
    if (!value) return value.error();
    op.value = std::move(value.value());
    auto count = columns.dot_count(shapes[i] >> kDotsShift);
    if (!count) return count.error();
    auto dots = columns.dots(count.value(), tables.value());
    if (!dots) return dots.error();
    op.dots = std::move(dots.value());
  }
  if (!columns.exhausted()) return bad_column("values or dots left over");
  return ops;
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
  auto ops = read_operations(in.getOperations(), changeset.origin);
  if (!ops) return ops.error();
  changeset.operations = std::move(ops.value());
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
  write_operations(root.initOperations(), changeset);
  return deflate_bytes(pack(capnp::canonicalize(root.asReader())));
}

Result<Changeset> decode_changeset_body(std::string_view bytes) {
  if (bytes.size() > kMaxUnpackedBytes) {
    return make_error(ErrorCode::corrupt, "changeset body of " + std::to_string(bytes.size()) +
                                              " bytes is above the limit");
  }
  std::size_t limit =
      std::min<std::uint64_t>(bytes.size() * kPackedExpansion * 4 + 65536, kMaxUnpackedBytes);
  auto packed = inflate_bytes(bytes, limit, "changeset body");
  if (!packed) return packed.error();
  return read_packed<schema::Changeset>(packed.value(), "changeset body", read_changeset);
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
