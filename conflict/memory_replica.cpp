#include "conflict/memory_replica.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "protocol/codec.hpp"

namespace tutelle::conflict {

namespace {

void append_u64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

void append_bytes(std::string& out, std::string_view bytes) {
  append_u64(out, bytes.size());
  out.append(bytes);
}

}  // namespace

std::string state_bytes(const std::vector<std::string>& encoded_records,
                        const std::vector<std::pair<Dot, std::string>>& tombstones) {
  std::string out;
  append_u64(out, encoded_records.size());
  for (const auto& bytes : encoded_records) append_bytes(out, bytes);
  append_u64(out, tombstones.size());
  for (const auto& [dot, scope] : tombstones) {
    append_bytes(out, std::string_view(reinterpret_cast<const char*>(dot.origin.data()), 32));
    append_u64(out, dot.seq);
    append_u64(out, dot.index);
    append_bytes(out, scope);
  }
  return out;
}

std::size_t MemoryReplica::ChangesetKeyHash::operator()(
    const std::pair<KeyBytes, std::uint64_t>& key) const {
  std::uint64_t head = 0;
  std::memcpy(&head, key.first.data(), sizeof(head));
  return static_cast<std::size_t>(head ^ (key.second * 0x9e3779b97f4a7c15ULL));
}

Status MemoryReplica::check_records(const Changeset& changeset) const {
  std::map<std::string, std::string> created;  // id → type, for records new in this changeset
  for (std::size_t i = 0; i < changeset.operations.size(); ++i) {
    const Operation& op = changeset.operations[i];
    const RecordState* known = find(op.record);
    std::string type =
        known != nullptr ? known->type : created.emplace(op.record, op.type).first->second;
    std::string home = known != nullptr ? known->home : changeset.scope;
    if (type != op.type || home != changeset.scope) {
      return make_error(ErrorCode::refused, "operation " + std::to_string(i) + " on " + op.record +
                                                ": the record is a " + type + " of scope " + home +
                                                ", not a " + op.type + " of scope " +
                                                changeset.scope);
    }
  }
  return {};
}

Result<Applied> MemoryReplica::apply(const Changeset& changeset) {
  if (applied_.count({changeset.origin, changeset.seq}) > 0) return Applied::duplicate;
  Status fits = check_records(changeset);
  if (!fits) return fits.error();

  for (std::uint32_t i = 0; i < changeset.operations.size(); ++i) {
    const Operation& op = changeset.operations[i];
    auto [at, fresh] = records_.try_emplace(op.record);
    if (fresh) at->second = RecordState{op.record, op.type, changeset.scope, {}};
    apply_operation(at->second, changeset, i, *this);
    if (at->second.deleted()) records_.erase(at);
  }
  applied_.insert({changeset.origin, changeset.seq});
  frontier_.observe(changeset.scope, changeset.origin, changeset.seq);
  return Applied::applied;
}

std::size_t MemoryReplica::compact() {
  std::size_t dropped = 0;
  for (auto it = tombstones_.begin(); it != tombstones_.end();) {
    if (frontier_.passed(it->first, it->second)) {
      it = tombstones_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

const RecordState* MemoryReplica::find(const std::string& id) const {
  auto found = records_.find(id);
  return found == records_.end() ? nullptr : &found->second;
}

std::string MemoryReplica::encoded() const {
  std::vector<const RecordState*> sorted;
  sorted.reserve(records_.size());
  for (const auto& [id, record] : records_) sorted.push_back(&record);
  std::sort(sorted.begin(), sorted.end(),
            [](const RecordState* a, const RecordState* b) { return a->id < b->id; });
  std::vector<std::string> records;
  records.reserve(sorted.size());
  for (const RecordState* record : sorted) records.push_back(encode_record(*record));
  return state_bytes(records, {tombstones_.begin(), tombstones_.end()});
}

bool MemoryReplica::applied(const KeyBytes& origin, std::uint64_t seq) {
  return applied_.count({origin, seq}) > 0;
}

bool MemoryReplica::take_tombstone(const Dot& dot) {
  return tombstones_.erase(dot) > 0;
}

void MemoryReplica::add_tombstone(const Dot& dot, const std::string& scope) {
  tombstones_.emplace(dot, scope);
}

}  // namespace tutelle::conflict
