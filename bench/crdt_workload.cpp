#include "bench/crdt_workload.hpp"

#include <algorithm>
#include <map>
#include <ostream>
#include <random>

#include "conflict/memory_replica.hpp"
#include "identity/changeset_signature.hpp"
#include "protocol/catalogue.hpp"

namespace tutelle::bench {

namespace {

const std::vector<std::string> kSingleFields = {"title",  "acronym", "status",
                                                "budget", "start",   "end"};
const char* kSetField = "structures";
const std::vector<std::string> kStatuses = {"draft",   "submitted", "accepted",
                                            "running", "finished",  "rejected"};

// One operation before it is drafted against a replica's view: which record and field.
struct Plan {
  std::size_t record = 0;
  std::size_t field = 0;  // index into kSingleFields; kSingleFields.size() for the set field
  bool concurrent = false;
};

struct Replica {
  identity::KeyPair keys;
  std::string establishment;
  std::uint64_t seq = 0;
  HashBytes prev{};
  conflict::MemoryReplica state;
};

// Sees the replica's state while a changeset is drafted (see tests/conflict/simulation.cpp).
class ViewOracle : public conflict::DotOracle {
 public:
  explicit ViewOracle(conflict::MemoryReplica& state) : state_(state) {}
  bool applied(const KeyBytes& origin, std::uint64_t seq) override {
    return state_.applied(origin, seq);
  }
  bool take_tombstone(const Dot& dot) override { return state_.tombstones().count(dot) > 0; }
  void add_tombstone(const Dot&, const std::string&) override {}

 private:
  conflict::MemoryReplica& state_;
};

class Generator {
 public:
  explicit Generator(const WorkloadOptions& options) : options_(options), random_(options.seed) {}

  Result<Workload> run();

 private:
  std::size_t draw(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random_) < p; }

  void make_universe();
  std::vector<Plan> own_plans(std::size_t replica, std::size_t count);
  Value draw_value(std::size_t field);
  void draft(std::size_t round, std::size_t replica, std::size_t scope,
             const std::vector<Plan>& plans);
  void sync_round(std::size_t first_changeset);

  const WorkloadOptions& options_;
  std::mt19937_64 random_;
  Workload workload_;
  std::vector<Replica> replicas_;
};

void Generator::make_universe() {
  for (std::size_t s = 0; s < options_.scopes; ++s) {
    char text[32];
    std::snprintf(text, sizeof(text), "rnsr:20219%05zuG", s);
    workload_.scopes.push_back(text);
  }
  for (std::size_t r = 0; r < options_.records; ++r) {
    char text[48];
    std::snprintf(text, sizeof(text), "project:%012llx%012llx",
                  static_cast<unsigned long long>(0x18f000000000ULL + r * 1000),
                  static_cast<unsigned long long>(random_() & 0xffffffffffffULL));
    workload_.records.push_back(text);
    // Each scope holds records of every replica's share.
    workload_.record_scopes.push_back(r / options_.replicas % options_.scopes);
  }
  static const std::vector<std::string> uais = {"0339901H", "0759901E", "0310001A", "0690001B",
                                                "0130001C", "0440001D", "0590001E", "0670001F"};
  for (std::size_t p = 0; p < options_.replicas; ++p) {
    Replica replica;
    replica.keys = identity::generate_key_pair();
    replica.establishment = uais[p % uais.size()];
    replicas_.push_back(std::move(replica));
  }
}

// `count` operations of `replica` on its own share of the records, in edits of one record and
// one to four fields.
std::vector<Plan> Generator::own_plans(std::size_t replica, std::size_t count) {
  std::vector<Plan> plans;
  std::size_t share = (options_.records + options_.replicas - 1 - replica) / options_.replicas;
  while (plans.size() < count) {
    std::size_t record = draw(share) * options_.replicas + replica;
    std::size_t fields = 1 + draw(4);
    for (std::size_t f = 0; f < fields && plans.size() < count; ++f) {
      bool on_set = chance(options_.set_share);
      plans.push_back(Plan{record, on_set ? kSingleFields.size() : draw(kSingleFields.size())});
    }
  }
  return plans;
}

Value Generator::draw_value(std::size_t field) {
  char text[32];
  switch (field) {
    case 0: std::snprintf(text, sizeof(text), "Projet %05zu", draw(100000)); break;
    case 1:
      for (std::size_t i = 0, n = 3 + draw(4); i <= n; ++i) {
        text[i] = i == n ? '\0' : static_cast<char>('A' + draw(26));
      }
      break;
    case 2: return Value{kStatuses[draw(kStatuses.size())]};
    case 3: std::snprintf(text, sizeof(text), "%zu.00", 1000 * (10 + draw(990))); break;
    case 4:
    case 5:
      std::snprintf(text, sizeof(text), "20%02zu-%02zu-%02zu", 20 + draw(10), 1 + draw(12),
                    1 + draw(28));
      break;
    default: return Value{workload_.scopes[draw(workload_.scopes.size())]};
  }
  return Value{std::string(text)};
}

// Replica `replica` writes, against its view, one changeset of `plans` in `scope`, and
// applies it.
void Generator::draft(std::size_t round, std::size_t replica, std::size_t scope,
                      const std::vector<Plan>& plans) {
  Replica& self = replicas_[replica];
  WorkloadChangeset out;
  out.round = round;
  out.replica = replica;
  Changeset& changeset = out.changeset;
  changeset.origin = self.keys.public_key;
  changeset.establishment = self.establishment;
  changeset.seq = ++self.seq;
  changeset.prev = self.prev;
  changeset.hlc = (std::uint64_t{1'700'000'000'000} + round * 60'000 + replica) << 16;
  changeset.author = "steward@" + self.establishment;
  changeset.scope = workload_.scopes[scope];

  ViewOracle view(self.state);
  std::map<std::size_t, RecordState> scratch;
  for (const Plan& plan : plans) {
    auto [at, fresh] = scratch.try_emplace(plan.record);
    const std::string& id = workload_.records[plan.record];
    if (fresh) {
      const RecordState* held = self.state.find(id);
      at->second = held ? *held : RecordState{id, "project", changeset.scope, {}};
    }
    bool on_set = plan.field == kSingleFields.size();
    const std::string& field = on_set ? std::string(kSetField) : kSingleFields[plan.field];
    const FieldState* held = at->second.field(field);
    Operation op{OpKind::set, id, "project", field, draw_value(plan.field), {}};
    std::string removed;
    if (!on_set) {
      op.dots = conflict::field_dots(held);
    } else if (held != nullptr && chance(0.3)) {
      auto elements = conflict::set_values(*held);
      Value element = elements[draw(elements.size())];
      op = Operation{OpKind::remove, id,      "project",
                     field,          Value{}, conflict::element_dots(held, element)};
      removed = value_text(element);
    } else {
      op.kind = OpKind::add;
    }
    changeset.operations.push_back(std::move(op));
    out.removed.push_back(std::move(removed));
    conflict::apply_operation(at->second, changeset,
                              static_cast<std::uint32_t>(changeset.operations.size() - 1), view);
    workload_.concurrent += plan.concurrent;
  }

  auto [bytes, hash] = identity::sign_changeset(self.keys, changeset);
  out.signed_bytes = std::move(bytes);
  self.prev = hash;
  (void)self.state.apply(changeset);
  workload_.operations += changeset.operations.size();
  workload_.changesets.push_back(std::move(out));
}

// Every replica receives the changesets the others wrote since `first_changeset`.
void Generator::sync_round(std::size_t first_changeset) {
  for (std::size_t p = 0; p < replicas_.size(); ++p) {
    for (std::size_t i = first_changeset; i < workload_.changesets.size(); ++i) {
      const WorkloadChangeset& written = workload_.changesets[i];
      if (written.replica != p) (void)replicas_[p].state.apply(written.changeset);
    }
  }
}

Result<Workload> Generator::run() {
  Status ready = identity::sodium_ready();
  if (!ready) return ready.error();
  make_universe();
  std::size_t per_round = options_.operations / (options_.rounds * options_.replicas);
  auto concurrent = static_cast<std::size_t>(double(per_round) * options_.concurrent);
  for (std::size_t round = 0; round < options_.rounds; ++round) {
    std::vector<std::vector<Plan>> plans;
    for (std::size_t p = 0; p < replicas_.size(); ++p) {
      plans.push_back(own_plans(p, per_round - concurrent));
    }
    // Concurrent writes: a single-valued field another replica writes in this round too.
    for (std::size_t p = 0; p < replicas_.size(); ++p) {
      for (std::size_t k = 0; k < concurrent; ++k) {
        const auto& theirs = plans[(p + 1 + draw(replicas_.size() - 1)) % replicas_.size()];
        Plan plan = theirs[draw(theirs.size())];
        if (plan.field == kSingleFields.size()) plan.field = 0;
        plan.concurrent = true;
        plans[p].insert(plans[p].begin() + static_cast<std::ptrdiff_t>(draw(plans[p].size())),
                        plan);
      }
    }
    std::size_t first = workload_.changesets.size();
    for (std::size_t p = 0; p < replicas_.size(); ++p) {
      std::map<std::size_t, std::vector<Plan>> by_scope;
      for (const Plan& plan : plans[p]) {
        by_scope[workload_.record_scopes[plan.record]].push_back(plan);
      }
      for (const auto& [scope, scoped] : by_scope) draft(round, p, scope, scoped);
    }
    sync_round(first);
  }

  workload_.state = replicas_[0].state.encoded();
  for (const auto& replica : replicas_) {
    if (replica.state.encoded() != workload_.state) {
      return make_error(ErrorCode::internal, "the replicas of the workload did not converge");
    }
  }
  for (const auto& [id, record] : replicas_[0].state.records()) {
    for (const auto& field : record.fields)
      workload_.conflicts += conflict::is_conflict("project", field);
  }
  return std::move(workload_);
}

}  // namespace

Result<Workload> generate_workload(const WorkloadOptions& options) {
  if (options.replicas < 2 || options.rounds == 0 || options.records < options.replicas ||
      options.scopes == 0 || options.operations < options.rounds * options.replicas) {
    return make_error(ErrorCode::invalid_argument,
                      "the workload needs 2 replicas or more, a round, a record per replica, a "
                      "scope and an operation per replica and round");
  }
  Generator generator(options);
  return generator.run();
}

void write_workload_text(const Workload& workload, std::ostream& out) {
  std::map<std::string, std::size_t> index;
  out << "records " << workload.records.size() << " " << workload.scopes.size() << "\n";
  for (std::size_t r = 0; r < workload.records.size(); ++r) {
    index[workload.records[r]] = r;
    out << "R " << workload.records[r] << " " << workload.scopes[workload.record_scopes[r]] << "\n";
  }
  std::size_t round = 0;
  for (const auto& written : workload.changesets) {
    if (written.round != round) out << "E " << round++ << "\n";
    const Changeset& changeset = written.changeset;
    out << "C " << written.round << " " << written.replica << " " << changeset.scope << "\n";
    for (std::size_t i = 0; i < changeset.operations.size(); ++i) {
      const Operation& op = changeset.operations[i];
      char kind = op.kind == OpKind::set ? 's' : op.kind == OpKind::add ? 'a' : 'r';
      std::string value = op.kind == OpKind::remove ? written.removed[i] : value_text(op.value);
      out << kind << " " << index[op.record] << " " << op.field << " " << value << "\n";
    }
  }
  out << "E " << round << "\n";
}

}  // namespace tutelle::bench
