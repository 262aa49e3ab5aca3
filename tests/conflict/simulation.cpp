#include "tests/conflict/simulation.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>

#include "protocol/codec.hpp"

namespace tutelle::testing {

namespace {

// What a peer sees while it drafts a changeset: its replica, read-only. A dot it holds as a
// tombstone will be dropped when the changeset is applied, so the draft sees it dropped too.
class ViewOracle : public conflict::DotOracle {
 public:
  explicit ViewOracle(conflict::MemoryReplica& replica) : replica_(replica) {}
  bool applied(const KeyBytes& origin, std::uint64_t seq) override {
    return replica_.applied(origin, seq);
  }
  bool take_tombstone(const Dot& dot) override { return replica_.tombstones().count(dot) > 0; }
  void add_tombstone(const Dot&, const std::string&) override {}

 private:
  conflict::MemoryReplica& replica_;
};

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

template <typename T>
const T& pick(std::mt19937_64& random, const std::vector<T>& items) {
  return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(random)];
}

std::vector<Dot> some_of(std::mt19937_64& random, std::vector<Dot> dots) {
  std::vector<Dot> kept;
  for (const Dot& dot : dots) {
    if (random() % 2 == 0) kept.push_back(dot);
  }
  return kept;
}

}  // namespace

Universe Universe::small() {
  Universe universe;
  for (int i = 1; i <= 4; ++i) {
    universe.records.push_back("project:00000000000000000000000" + std::to_string(i));
  }
  universe.scopes = {"rnsr:202199101G", "rnsr:202199102H"};
  return universe;
}

KeyBytes random_key(std::mt19937_64& random) {
  KeyBytes key{};
  for (auto& byte : key) byte = static_cast<std::uint8_t>(random());
  return key;
}

std::uint64_t first_seed(std::uint64_t fallback) {
  return env_number("TUTELLE_SEED", fallback);
}

std::size_t case_count(std::size_t fallback) {
  std::uint64_t single = std::getenv("TUTELLE_SEED") != nullptr ? 1 : fallback;
  return static_cast<std::size_t>(env_number("TUTELLE_CASES", single));
}

Simulation::Simulation(std::uint64_t seed, std::size_t peers, Universe universe)
    : random_(seed), universe_(std::move(universe)) {
  static const std::vector<std::string> establishments = {"0339901H", "0759901E", "0310001A",
                                                          "0690001B", "0130001C"};
  for (std::size_t p = 0; p < peers; ++p) {
    Peer peer;
    peer.origin = random_key(random_);
    peer.establishment = establishments[p % establishments.size()];
    peers_.push_back(std::move(peer));
  }
}

Operation Simulation::draw_operation(const RecordState& state, std::size_t record,
                                     const OperationMix& mix) {
  const std::string& id = universe_.records[record];
  Operation op{OpKind::set,
               id,
               "project",
               pick(random_, universe_.single_fields),
               Value{pick(random_, universe_.values)},
               {}};
  int total = mix.set + mix.add + mix.remove + mix.delete_record + mix.resolve + mix.merge;
  int draw = static_cast<int>(random_() % static_cast<std::uint64_t>(total));
  const FieldState* set_state = state.field(universe_.set_field);

  if ((draw -= mix.set) < 0) {
    // A stale view now and then: the author saw only some of the values.
    auto seen = conflict::field_dots(state.field(op.field));
    op.dots = random_() % 5 == 0 ? some_of(random_, seen) : seen;
  } else if ((draw -= mix.add) < 0 || ((draw -= mix.remove) < 0 && set_state == nullptr)) {
    op.kind = OpKind::add;
    op.field = universe_.set_field;
  } else if (draw < 0) {
    op.kind = OpKind::remove;
    op.field = universe_.set_field;
    Value element = pick(random_, conflict::set_values(*set_state));
    op.dots = conflict::element_dots(set_state, element);
    op.value = Value{};
  } else if ((draw -= mix.delete_record) < 0) {
    op = Operation{OpKind::delete_record, id, "project", "", Value{}, conflict::all_dots(state)};
  } else if ((draw -= mix.resolve) < 0) {
    for (const auto& field : universe_.single_fields) {
      const FieldState* held = state.field(field);
      if (held != nullptr && held->entries.size() > 1) op.field = field;
    }
    op.kind = OpKind::resolve;
    op.dots = conflict::field_dots(state.field(op.field));
  } else {
    std::string survivor = pick(random_, universe_.records);
    if (survivor == id) survivor = universe_.records[(record + 1) % universe_.records.size()];
    op = Operation{OpKind::merge, id, "project", "", Value{survivor}, conflict::all_dots(state)};
  }
  return op;
}

std::size_t Simulation::edit(std::size_t p, const OperationMix& mix) {
  Peer& peer = peers_[p];
  std::size_t scope = random_() % universe_.scopes.size();
  std::vector<std::size_t> candidates;
  for (std::size_t r = 0; r < universe_.records.size(); ++r) {
    if (r % universe_.scopes.size() == scope) candidates.push_back(r);
  }

  Changeset draft;
  draft.origin = peer.origin;
  draft.establishment = peer.establishment;
  draft.seq = peer.seq + 1;
  draft.hlc = (log_.size() + 1) << 16 | (random_() % 4);
  draft.author = "author@" + peer.establishment;
  draft.scope = universe_.scopes[scope];

  // Each operation is drafted against the peer's view and the operations drafted before it.
  ViewOracle view(peer.replica);
  std::map<std::size_t, RecordState> scratch;
  std::size_t count = 1 + random_() % 3;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::size_t r = pick(random_, candidates);
    auto [at, fresh] = scratch.try_emplace(r);
    if (fresh) {
      const RecordState* held = peer.replica.find(universe_.records[r]);
      at->second = held ? *held : RecordState{universe_.records[r], "project", draft.scope, {}};
    }
    draft.operations.push_back(draw_operation(at->second, r, mix));
    conflict::apply_operation(at->second, draft, i, view);
  }

  // Through the codec, as a changeset travels.
  auto decoded = decode_changeset_body(encode_changeset_body(draft));
  REQUIRE(decoded.ok());
  REQUIRE(decoded.value() == draft);
  peer.seq = draft.seq;
  log_.push_back(std::move(decoded.value()));
  deliver(p, log_.size() - 1);
  return log_.size() - 1;
}

void Simulation::deliver(std::size_t p, std::size_t i) {
  auto applied = peers_[p].replica.apply(log_[i]);
  INFO("changeset " << i << " to peer " << p);
  REQUIRE(applied.ok());
}

void Simulation::deliver_some(std::size_t p, std::size_t count) {
  if (log_.empty()) return;
  for (std::size_t k = 0; k < count; ++k) deliver(p, random_() % log_.size());
}

void Simulation::deliver_all(std::size_t p) {
  std::vector<std::size_t> order(log_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = 0; i < order.size() / 4; ++i) order.push_back(random_() % log_.size());
  std::shuffle(order.begin(), order.end(), random_);
  for (std::size_t i : order) deliver(p, i);
}

}  // namespace tutelle::testing
