#pragma once
// Tutelle's data in memory: values, dots, operations, changesets and the merged state of a
// record. protocol/tutelle.capnp is their encoding; protocol/codec.hpp converts.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace tutelle {

using KeyBytes = std::array<std::uint8_t, 32>;   // an Ed25519 public key
using HashBytes = std::array<std::uint8_t, 32>;  // a BLAKE2b-256 digest

// A field value. Text carries text, decimal, date, reference and identifier kinds.
struct Value {
  std::variant<std::monostate, std::string, std::int64_t, bool> data;

  bool is_none() const { return std::holds_alternative<std::monostate>(data); }
  auto operator<=>(const Value&) const = default;
};

// The unique name of an operation: the index-th operation of changeset (origin, seq).
struct Dot {
  KeyBytes origin{};
  std::uint64_t seq = 0;
  std::uint32_t index = 0;

  auto operator<=>(const Dot&) const = default;
};

// merge folds `record` (a duplicate) into the record whose id is `value` (conflict/merge.hpp).
enum class OpKind { set, add, remove, delete_record, resolve, merge };

struct Operation {
  OpKind kind = OpKind::set;
  std::string record;
  std::string type;
  std::string field;      // empty for delete_record and merge
  Value value;            // set, add, resolve; merge: the surviving record's id
  std::vector<Dot> dots;  // superseded (set, resolve), removed (remove), seen (delete, merge)

  bool operator==(const Operation&) const = default;
};

struct Changeset {
  std::uint16_t version = 1;
  KeyBytes origin{};
  std::string establishment;  // UAI
  std::uint64_t seq = 0;
  HashBytes prev{};
  std::uint64_t hlc = 0;
  std::string author;
  std::string scope;
  std::vector<Operation> operations;

  Dot dot(std::uint32_t index) const { return Dot{origin, seq, index}; }
  bool operator==(const Changeset&) const = default;
};

// One live value of a field, with the operation that wrote it.
struct Entry {
  Dot dot;
  std::uint64_t hlc = 0;
  std::string establishment;
  Value value;

  bool operator==(const Entry&) const = default;
};

struct FieldState {
  std::string name;
  std::vector<Entry> entries;  // sorted by dot

  bool operator==(const FieldState&) const = default;
};

// The merged state of a record. Fields sorted by name; a record without fields is deleted.
struct RecordState {
  std::string id;
  std::string type;
  std::string home;
  std::vector<FieldState> fields;

  bool deleted() const { return fields.empty(); }
  const FieldState* field(const std::string& name) const;
  FieldState& field_mut(const std::string& name);  // inserts in order if missing
  bool operator==(const RecordState&) const = default;
};

}  // namespace tutelle
