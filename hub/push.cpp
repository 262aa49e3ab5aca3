// Hub::push_window: the checks a pushed changeset passes before it is accepted, in this order:
// signature over the raw bytes, then decoding with limits (verify_changeset); the origin is
// the connected node, still enrolled and not quarantined; the chain (seq, prev) with forks
// quarantined and gaps asked for; the catalogue; the hybrid clock; the establishment and the
// scope; the author's habilitations (check_author). Then it is applied, logged and indexed.
//
// Group commit: a window of changesets is decided in order inside one write transaction, each
// against what the ones before it left there (its chain head, the records its author's
// habilitations are read from, the tutelles of its scope), so each gets the outcome it would
// get alone. Nothing is logged or answered before the transaction commits, and a commit that
// fails answers nothing: what the node is told is accepted is stored. A changeset that fails to
// apply has already changed the transaction: the transaction is dropped, the changesets before
// it are decided again and committed with it refused, and the rest go on in a new one.

#include <cstring>
#include <optional>

#include "hub/hub.hpp"
#include "net/log.hpp"

namespace tutelle::hub {

namespace {

struct Head {
  std::uint64_t seq = 0;
  HashBytes hash{};
};

Result<Head> read_head(const store::Txn& txn, const store::Table& heads, const KeyBytes& origin) {
  auto bytes = txn.get(heads, store::origin_bytes(origin));
  if (!bytes) return bytes.error();
  Head head;
  if (bytes.value() && bytes.value()->size() == 40) {
    head.seq = store::decode_u64(bytes.value()->substr(0, 8));
    std::memcpy(head.hash.data(), bytes.value()->data() + 8, 32);
  }
  return head;
}

std::string head_bytes(std::uint64_t seq, const HashBytes& hash) {
  return store::encode_u64(seq) + std::string(reinterpret_cast<const char*>(hash.data()), 32);
}

// The answer to a node whose session outlived its right to push: quarantined (another session
// of its key forked) or revoked since it connected. Empty while it may push.
// TODO(security): such a session is ended only at its next push; until then it still reads.
std::optional<PushOutcome> barred(const std::optional<NodeInfo>& info, const Changeset& changeset) {
  PushOutcome outcome;
  outcome.seq = changeset.seq;
  outcome.scope = changeset.scope;
  outcome.close = true;
  if (info && info->quarantined) {
    outcome.result = PushResult::fork;
    outcome.reason = "origin " + hex(changeset.origin) + " is quarantined: " + info->why;
    return outcome;
  }
  if (!info || info->revoked) {
    outcome.result = PushResult::refused;
    outcome.reason = "key " + hex(changeset.origin) + " is no longer enrolled";
    return outcome;
  }
  return std::nullopt;
}

// Whether the changeset touches a record of a type with tutelles or a UAI: the only fields
// refresh_scope() reads, so the tutelles it knows stand for any other changeset.
bool may_change_tutelles(const Changeset& changeset) {
  for (const auto& op : changeset.operations) {
    const TypeSpec* type = find_type(op.type);
    if (type == nullptr || type->field("tutelles") != nullptr || type->field("uai") != nullptr) {
      return true;
    }
  }
  return false;
}

PushOutcome closing_refusal(std::uint64_t seq, std::string scope, std::string reason) {
  return PushOutcome{PushResult::refused, seq, 0, 0, std::move(scope), std::move(reason), true};
}

}  // namespace

// A changeset of the window, verified before the window's first transaction begins.
struct Hub::Pushed {
  Result<identity::VerifiedChangeset> verified;
  std::optional<std::string> unappliable;  // applying it failed in an earlier try: why
};

// One write transaction over a run of the window. `notes` are logged once it committed.
struct Hub::Segment {
  store::Writer writer;
  std::uint64_t hub_seq = 0;  // the last one the hub log holds
  std::vector<PushOutcome> outcomes;
  std::vector<std::pair<log::Level, std::string>> notes;
  std::set<std::string> scopes;            // of the changesets accepted
  RecordCache records;                     // read by the checks; accept() drops what it changes
  std::optional<std::string> apply_error;  // the last changeset admitted failed to apply: why
  // The session's enrolment, read once: only a quarantine changes it, and that ends the window.
  std::optional<std::optional<NodeInfo>> origin;

  void note(log::Level level, std::string text) { notes.emplace_back(level, std::move(text)); }
};

// What run_segment did: committed `outcomes`, or gave up at `unappliable` (aborted, nothing
// committed), whose failure is now noted in the window.
struct Hub::SegmentRun {
  std::vector<PushOutcome> outcomes;
  std::optional<std::size_t> unappliable;
};

Result<PushOutcome> Hub::quarantine(Segment& segment, const identity::PublicKey& origin,
                                    std::uint64_t seq, std::string reason) {
  auto info = node_info(segment.writer.txn(), origin);
  if (!info) return info.error();
  NodeInfo fresh;
  fresh.key = identity::to_hex(origin);
  NodeInfo node = info.value().value_or(fresh);
  node.quarantined = true;
  node.why = reason;
  Status put = put_node(segment.writer, origin, node);
  if (!put) return put.error();
  segment.note(log::Level::warning, "quarantined origin " + node.key + ": " + reason);
  return PushOutcome{PushResult::fork, seq, 0, 0, "", std::move(reason), true};
}

Result<PushOutcome> Hub::refuse(Segment& segment, const identity::VerifiedChangeset& verified,
                                std::string reason) {
  const Changeset& changeset = verified.changeset;
  store::Writer& writer = segment.writer;
  Status marked = writer.mark_refused(changeset, verified.signed_bytes, verified.hash, false);
  if (!marked) return marked.error();
  Status head = writer.txn().put(replica_->table("heads"), store::origin_bytes(changeset.origin),
                                 head_bytes(changeset.seq, verified.hash));
  if (!head) return head.error();
  segment.note(log::Level::warning, "refused seq " + std::to_string(changeset.seq) + " of origin " +
                                        hex(changeset.origin) + " in scope " + changeset.scope +
                                        ": " + reason);
  return PushOutcome{PushResult::refused, changeset.seq,     0,    0,
                     changeset.scope,     std::move(reason), false};
}

// REQUIRES: the changeset passed every check. A failure to apply leaves the transaction changed
// in part: it is reported in segment.apply_error, and the transaction must be dropped.
Result<PushOutcome> Hub::accept(Segment& segment, const identity::VerifiedChangeset& verified) {
  const Changeset& changeset = verified.changeset;
  store::Writer& writer = segment.writer;
  auto applied = writer.apply(changeset, verified.signed_bytes, verified.hash, false);
  if (!applied) {
    segment.apply_error = applied.error().message;
    return PushOutcome{};
  }

  std::uint64_t hub_seq = segment.hub_seq + 1;
  std::string key = store::changeset_key(changeset.origin, changeset.seq);
  Status logged = writer.txn().put(replica_->table("hub_log"), store::encode_u64(hub_seq), key);
  if (!logged) return logged.error();
  Status indexed = writer.txn().put(replica_->table("scope_log"),
                                    changeset.scope + '\0' + store::encode_u64(hub_seq), "");
  if (!indexed) return indexed.error();
  Status head = writer.txn().put(replica_->table("heads"), store::origin_bytes(changeset.origin),
                                 head_bytes(changeset.seq, verified.hash));
  if (!head) return head.error();
  segment.hub_seq = hub_seq;

  // The next changesets' checks read the records and the tutelles this one left.
  Status flushed = writer.flush();
  if (!flushed) return flushed.error();
  for (const auto& op : changeset.operations) segment.records.erase(op.record);
  if (may_change_tutelles(changeset)) refresh_scope(writer.txn(), changeset.scope);
  segment.scopes.insert(changeset.scope);
  return PushOutcome{PushResult::accepted, changeset.seq, hub_seq, 0, changeset.scope, "", false};
}

// A duplicate, a fork or a gap; nullopt when the changeset follows the origin's head.
Result<std::optional<PushOutcome>> Hub::check_chain(Segment& segment,
                                                    const identity::VerifiedChangeset& verified) {
  const Changeset& changeset = verified.changeset;
  const store::Txn& txn = segment.writer.txn();
  auto head = read_head(txn, replica_->table("heads"), changeset.origin);
  if (!head) return head.error();
  std::string seq = std::to_string(changeset.seq);
  using Found = std::optional<PushOutcome>;
  auto fork = [&](std::string reason) -> Result<Found> {
    auto outcome = quarantine(segment, changeset.origin, changeset.seq, std::move(reason));
    if (!outcome) return outcome.error();
    return Found(std::move(outcome.value()));
  };
  if (changeset.seq <= head->seq) {
    auto known =
        txn.get(replica_->table("applied"), store::changeset_key(changeset.origin, changeset.seq));
    if (!known) return known.error();
    if (known.value() && std::memcmp(known.value()->data(), verified.hash.data(), 32) == 0) {
      segment.note(log::Level::info, "duplicate seq " + seq + " of origin " +
                                         hex(changeset.origin) + ": held already, nothing changed");
      return Found(
          PushOutcome{PushResult::duplicate, changeset.seq, 0, 0, changeset.scope, "", false});
    }
    return fork("fork: two different changesets with seq " + seq);
  }
  if (changeset.seq > head->seq + 1) {
    std::string expected = std::to_string(head->seq + 1);
    segment.note(log::Level::info, "gap: seq " + seq + " of origin " + hex(changeset.origin) +
                                       " pushed before seq " + expected + "; asked for it");
    return Found(PushOutcome{PushResult::gap, changeset.seq, 0, head->seq + 1, changeset.scope,
                             "expected seq " + expected, false});
  }
  if (changeset.prev != head->hash) {
    return fork("fork: seq " + seq + " does not follow the changeset the hub holds before it");
  }
  return Found();
}

// Why the changeset may not be accepted, or nullopt: catalogue, clock, establishment, scope and
// the author's habilitations, in this order.
Result<std::optional<std::string>> Hub::refusal(Segment& segment, const std::string& establishment,
                                                const Changeset& changeset,
                                                const std::optional<NodeInfo>& info) {
  using Why = std::optional<std::string>;
  Status valid = check_changeset(changeset);
  if (!valid) return Why(valid.error().message);
  Status clock = clock_.observe(changeset.hlc);
  if (!clock) return Why(clock.error().message);
  if (changeset.establishment != establishment) {
    return Why("the changeset says establishment " + changeset.establishment +
               ", the node is enrolled for " + establishment);
  }
  if (!may_write(establishment, changeset)) {
    return Why("establishment " + establishment + " may not write in scope " + changeset.scope +
               ": it is not among its tutelles");
  }
  Status habilitated = check_author(segment.writer.txn(), segment.records, changeset, info);
  if (!habilitated && habilitated.error().code != ErrorCode::refused) return habilitated.error();
  if (!habilitated) return Why(habilitated.error().message);
  return Why();
}

Result<PushOutcome> Hub::admit(Segment& segment, const identity::PublicKey& session_key,
                               const std::string& establishment, const Pushed& pushed) {
  if (!pushed.verified) {
    const std::string& why = pushed.verified.error().message;
    segment.note(log::Level::warning, "refused a changeset: " + why);
    return closing_refusal(0, "", why);
  }
  const identity::VerifiedChangeset& verified = pushed.verified.value();
  const Changeset& changeset = verified.changeset;
  if (changeset.origin != session_key) {
    return closing_refusal(changeset.seq, changeset.scope,
                           "a node pushes only its own changesets; origin " +
                               hex(changeset.origin) + " is not this node");
  }

  if (!segment.origin) {
    auto info = node_info(segment.writer.txn(), session_key);
    if (!info) return info.error();
    segment.origin = std::move(info.value());
  }
  const std::optional<NodeInfo>& info = *segment.origin;
  if (auto outcome = barred(info, changeset)) {
    segment.note(log::Level::warning,
                 "refused seq " + std::to_string(changeset.seq) + ": " + outcome->reason);
    return *outcome;
  }
  auto chained = check_chain(segment, verified);
  if (!chained) return chained.error();
  if (chained.value()) return *chained.value();

  auto why = refusal(segment, establishment, changeset, info);
  if (!why) return why.error();
  if (why.value()) return refuse(segment, verified, *why.value());
  if (pushed.unappliable) return refuse(segment, verified, *pushed.unappliable);
  return accept(segment, verified);
}

// Decides window[begin, end) in one write transaction and commits it, stopping after an
// outcome that closes the session. A changeset that fails to apply aborts it all.
Result<Hub::SegmentRun> Hub::run_segment(const identity::PublicKey& session_key,
                                         const std::string& establishment,
                                         std::vector<Pushed>& window, std::size_t begin,
                                         std::size_t end) {
  auto writer = replica_->begin_write();
  if (!writer) return writer.error();
  Segment segment{std::move(writer.value()), 0, {}, {}, {}, {}, std::nullopt, std::nullopt};
  auto last = segment.writer.txn().last_key(replica_->table("hub_log"), "");
  if (!last) return last.error();
  segment.hub_seq = last.value() ? store::decode_u64(*last.value()) : 0;

  // The tutelles this transaction refreshed are read again from what is committed.
  auto forget = [&] {
    segment.writer.txn().abort();
    auto txn = replica_->begin_read();
    for (const auto& scope : segment.scopes) {
      if (txn) refresh_scope(txn.value(), scope);
    }
  };
  for (std::size_t i = begin; i < end; ++i) {
    auto outcome = admit(segment, session_key, establishment, window[i]);
    if (!outcome) {
      forget();
      return outcome.error();
    }
    if (segment.apply_error) {
      window[i].unappliable = segment.apply_error;
      forget();
      return SegmentRun{{}, i};
    }
    segment.outcomes.push_back(std::move(outcome.value()));
    if (segment.outcomes.back().close) break;
  }

  Status committed = segment.writer.commit();
  if (!committed) {
    forget();
    return committed.error();
  }
  for (const auto& [level, text] : segment.notes) log::write(level, "hub", text);
  scopes_.insert(segment.scopes.begin(), segment.scopes.end());
  return SegmentRun{std::move(segment.outcomes), std::nullopt};
}

Result<std::vector<PushOutcome>> Hub::push_window(const identity::PublicKey& session_key,
                                                  const std::string& establishment,
                                                  const std::vector<std::string>& signed_bytes) {
  std::vector<PushOutcome> outcomes;
  if (is_partner(establishment)) {
    // Only a broken or hostile node pushes here: the session ends, as for a forged origin, and
    // the pushes after the first get no answer.
    outcomes.push_back(PushOutcome{
        PushResult::refused, 0, 0, 0, "",
        "a partner's node is read-only: the hub accepts no changeset from " + establishment, true});
    return outcomes;
  }
  // TODO(perf): the signatures of a window could be verified on a thread pool; that would add
  // throughput on an idle machine, not changesets per core used.
  std::vector<Pushed> window;
  window.reserve(signed_bytes.size());
  for (const auto& bytes : signed_bytes) {
    window.push_back(Pushed{identity::verify_changeset(bytes), std::nullopt});
  }

  // Each changeset fails to apply at most once, so this ends; each is decided at most twice.
  std::size_t end = window.size();
  while (outcomes.size() < end && (outcomes.empty() || !outcomes.back().close)) {
    auto run = run_segment(session_key, establishment, window, outcomes.size(), end);
    if (!run) return run.error();
    if (run->unappliable) {
      end = *run->unappliable + 1;
      continue;
    }
    for (auto& outcome : run->outcomes) outcomes.push_back(std::move(outcome));
    end = window.size();
  }
  return outcomes;
}

}  // namespace tutelle::hub
