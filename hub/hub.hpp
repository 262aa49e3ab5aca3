#pragma once
// The hub's state: its key, its TLS identity, the enrolled nodes, and the replica holding every
// accepted changeset, the hub log and the merged records.
//
// Directory: DIR/hub.key, DIR/hub.pub (Ed25519), DIR/tls/ (certificate and key), DIR/store/.
// Tables beside the replica's (store/replica.hpp):
//   hub_log    hub seq (8 BE) → origin (32) seq (8 BE)   accepted changesets in arrival order
//   scope_log  scope \0 hub seq (8 BE) → ""                the log's index per scope
//   heads      origin (32) → seq (8 BE) hash (32)           each origin's chain head
//   nodes      public key (32) → JSON NodeInfo              enrolment, quarantine, last seen
//   shares     scope \0 partner → JSON {"types": […]}       what each partner may read
//   purges     public key (32) scope → time (ms, 8 BE)      a node's confirmation of a purge
//
// A reader is named by an establishment's UAI, or by "partner:NAME" for a partner.
// Not thread-safe: the hub serves every connection from one thread.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "conflict/hlc.hpp"
#include "identity/changeset_signature.hpp"
#include "store/replica.hpp"

namespace tutelle::hub {

struct NodeInfo {
  std::string key;  // hex
  std::string establishment;
  std::string role = "node";
  bool revoked = false;
  bool quarantined = false;
  std::string why;
  std::uint64_t last_seen_ms = 0;
  std::uint64_t last_seq = 0;
  std::string steward;  // the EPPN that holds establishment_admin on it without a record
};

enum class PushResult { accepted, duplicate, refused, gap, fork };
const char* to_string(PushResult result);

struct PushOutcome {
  PushResult result = PushResult::refused;
  std::uint64_t seq = 0;
  std::uint64_t hub_seq = 0;   // accepted: its place in the hub log
  std::uint64_t expected = 0;  // gap: the seq the hub waits for
  std::string scope;
  std::string reason;
  bool close = false;  // the peer misbehaves: end the connection
};

class Hub {
 public:
  static Result<std::unique_ptr<Hub>> create(const std::filesystem::path& dir);
  static Result<std::unique_ptr<Hub>> open(const std::filesystem::path& dir);

  // `reader`: a UAI, or "partner:NAME" for a partner's read-only node.
  // `steward`: the node's steward (identity/habilitations.hpp); "" gives "steward@<UAI>".
  Status enroll(const std::string& reader, const identity::PublicKey& key, const std::string& role,
                const std::string& steward = "");
  Status revoke(const identity::PublicKey& key);
  Result<std::vector<NodeInfo>> nodes();
  // The establishment `key` is enrolled for, or why it is refused.
  Result<std::string> enrolled(const identity::PublicKey& key);
  Status touch(const identity::PublicKey& key);

  // Verifies and, where it may, accepts a window of changesets pushed in this order by the node
  // `session_key` enrolled for `establishment` (hub/push.cpp). Each gets the outcome it would
  // get pushed alone after the ones before it; every refusal says why. The outcomes come back
  // once all they say is committed, most often in one write transaction. The first outcome
  // that closes the session is the last one: the changesets after it are not looked at.
  Result<std::vector<PushOutcome>> push_window(const identity::PublicKey& session_key,
                                               const std::string& establishment,
                                               const std::vector<std::string>& signed_bytes);
  Result<std::uint64_t> head_seq(const KeyBytes& origin);

  // The scopes a reader reads. An establishment: its own, every establishment's (the directory
  // is public), and every unit of which it is a tutelle. A partner: the scopes shared with it.
  std::set<std::string> readable_scopes(const std::string& reader) const;
  // Whether `reader` may receive `changeset`: its scope is readable and, for a partner, each of
  // its operations is of a shared type.
  bool may_read(const std::string& reader, const Changeset& changeset) const;
  static bool is_partner(const std::string& reader) { return reader.rfind("partner:", 0) == 0; }

  // Shares: `types` empty means every type.
  Status share(const std::string& scope, const std::string& partner,
               const std::vector<std::string>& types);
  Status unshare(const std::string& scope, const std::string& partner);
  Status record_purge(const identity::PublicKey& key, const std::string& scope);
  // Whether the node of `key` has confirmed a purge of `scope`: it then holds its own
  // changesets of the scope in its outbox without their effect, and needs them sent back.
  Result<bool> has_purged(const identity::PublicKey& key, const std::string& scope);
  // Each confirmed purge: (node key hex, scope, time ms).
  Result<std::vector<std::tuple<std::string, std::string, std::uint64_t>>> purges();
  bool may_write(const std::string& establishment, const Changeset& changeset) const;

  // Calls visit(hub seq, signed bytes) for the scope's changesets after `after`, in order.
  Status scan_scope(const std::string& scope, std::uint64_t after,
                    const std::function<bool(std::uint64_t, const std::string&)>& visit);
  Result<std::uint64_t> last_hub_seq();

  store::Replica& replica() { return *replica_; }
  const identity::KeyPair& keys() const { return keys_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string fingerprint() const { return fingerprint_; }

 private:
  Hub() = default;
  Status load_scopes();
  void refresh_scope(const store::Txn& txn, const std::string& scope);
  Result<std::optional<NodeInfo>> node_info(const store::Txn& txn, const identity::PublicKey& key);
  Status put_node(store::Writer& writer, const identity::PublicKey& key, const NodeInfo& info);
  // The steps of push_window (hub/push.cpp): a Segment is one write transaction over a run of
  // the window's changesets.
  struct Pushed;
  struct Segment;
  struct SegmentRun;
  Result<SegmentRun> run_segment(const identity::PublicKey& session_key,
                                 const std::string& establishment, std::vector<Pushed>& window,
                                 std::size_t begin, std::size_t end);
  Result<PushOutcome> admit(Segment& segment, const identity::PublicKey& session_key,
                            const std::string& establishment, const Pushed& pushed);
  Result<std::optional<PushOutcome>> check_chain(Segment& segment,
                                                 const identity::VerifiedChangeset& verified);
  Result<std::optional<std::string>> refusal(Segment& segment, const std::string& establishment,
                                             const Changeset& changeset,
                                             const std::optional<NodeInfo>& info);
  Result<PushOutcome> refuse(Segment& segment, const identity::VerifiedChangeset& verified,
                             std::string reason);
  Result<PushOutcome> quarantine(Segment& segment, const identity::PublicKey& origin,
                                 std::uint64_t seq, std::string reason);
  Result<PushOutcome> accept(Segment& segment, const identity::VerifiedChangeset& verified);
  // Records as a write transaction holds them, each decoded once for the checks of a window's
  // changesets. REQUIRES: an entry is dropped as soon as the transaction changes its record.
  using RecordCache = std::map<std::string, std::optional<RecordState>>;
  // Whether the changeset's author holds habilitations that allow all of it, read in `txn`
  // through `records`; `info` is its origin's enrolment (hub/authorship.cpp).
  Status check_author(const store::Txn& txn, RecordCache& records, const Changeset& changeset,
                      const std::optional<NodeInfo>& info);

  std::filesystem::path dir_;
  identity::KeyPair keys_;
  std::string fingerprint_;
  std::unique_ptr<store::Replica> replica_;
  conflict::HybridClock clock_;
  std::map<std::string, std::set<std::string>> tutelles_;  // scope root → tutelle UAIs
  std::set<std::string> scopes_;                           // every scope with a changeset
};

}  // namespace tutelle::hub
