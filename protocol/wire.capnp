# The sync protocol between nodes and the hub: what travels inside one frame.
#
# Transport
# ---------
# A node opens a TLS 1.3 connection to the hub and pins the hub's certificate by its SHA-256
# fingerprint (lowercase hex of the digest of the DER certificate, 64 characters); there is no
# certificate authority. On that connection both sides exchange frames: a 4-byte big-endian
# payload length, then the payload. A receiver refuses a length above its limit (16 MiB unless
# configured) before reading any of the payload. Every payload is one `Message`, encoded as a
# Cap'n Proto flat array (segment table, then segments; not packed) and decoded with traversal
# limits proportional to its size. Bytes after the message are refused.
#
# Handshake
# ---------
# In this order; any other message, or one that does not decode, ends the connection.
#
# 1. node -> hub `hello`: `version` is the protocol version the node speaks (1 today); `role`
#    says whether the peer is an establishment's node or a partner (partners only read);
#    `nodeKey` is the node's Ed25519 public key, 32 bytes.
# 2. hub -> node `challenge`, or `refuse` when the hub does not speak the node's version
#    (the reason reads "peer speaks protocol version X, this hub speaks 1"). `version` is the
#    hub's protocol version; `nonce` is 32 fresh random bytes, never reused; `hubKey` is the
#    hub's Ed25519 public key, 32 bytes. A node that does not speak `version` sends `refuse`.
# 3. node -> hub `auth`: `signature` is the 64-byte Ed25519 signature, by the secret key of
#    `nodeKey`, over exactly these bytes:
#        the ASCII bytes "tutelle/auth/1", one zero byte,
#        the 32 bytes of `nonce`,
#        the 64 ASCII characters of the hub certificate's fingerprint, as the node saw it.
#    The nonce makes a signature useless for any other connection; the fingerprint binds it to
#    this TLS channel, so a relay that terminates TLS with another certificate cannot reuse it.
# 4. hub -> node `welcome` when the signature verifies with `nodeKey` and that key is enrolled;
#    `establishment` names the establishment the hub admin enrolled the key for. Otherwise
#    `refuse`, and the hub closes the connection.
#
# Sync
# ----
# After `welcome`, in this order:
#
# 5. hub -> node `head`: `seq` is the last seq of the node's own chain the hub holds (0 for
#    none). The node pushes from seq + 1.
# 6. node -> hub `push`, any number, at any time from here: `changeset` is one SignedChangeset
#    (protocol/tutelle.capnp) of the node's own chain, in seq order. At most 64 unanswered.
# 7. hub -> node `ack` for each push, in order: `seq` the changeset's; `outcome` accepted,
#    duplicate (held already: nothing changed), refused (kept in the chain with no effect;
#    `reason` says why), gap (`expected` is the seq the hub waits for: push from there) or
#    fork (the origin is quarantined; the hub closes). A push that does not verify is refused
#    and the hub closes: the sender is broken or hostile.
# 8. node -> hub `pull`, once: `cursors` holds, for each scope the node holds, the last hub
#    seq of that scope it applied. A scope it may read and does not list starts from 0, so a
#    new scope's history comes alone and nothing already held is sent again.
# 9. hub -> node `deliver`, any number: `entries` are changesets of the scopes the node reads,
#    each with its hub seq and scope, in hub seq order within a scope; the node's own are not
#    sent. The node verifies each origin signature itself before applying it.
# 10. hub -> node `caughtUp` once the backlog is sent; `hubSeq` is the last hub seq. From then
#    on, live: `deliver` carries each changeset as the hub accepts it.
# 11. hub -> node `drop`, at any time after `pull`: the node may no longer read `scope` (its
#    establishment stopped being a tutelle of the unit, or the share was revoked). The node
#    purges the scope's records and the changesets of other origins in it, forgets its cursor,
#    and answers `dropped` with the same scope; the hub records that confirmation. A scope the
#    node newly may read is simply delivered, from its first changeset, with its hub seqs.
#
# `refuse` may come at any step from either side: `reason` is a sentence for a person (the
# operator of the other side), not a code to branch on. The sender closes after it.
#
# Texts are UTF-8. Keys are 32 bytes, nonces 32 bytes, signatures 64 bytes; any other length is
# refused.

@0xf5321b1983301953;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tutelle::wire");

struct Message {
  # One frame's payload. Exactly one member of the union is set.
  union {
    # --- Handshake (net/handshake.hpp) ---
    hello @0 :Hello;
    challenge @1 :Challenge;
    auth @2 :Auth;
    welcome @3 :Welcome;
    refuse @4 :Refuse;

    # --- Sync messages (see "Sync" above) ---
    # Keep the ordinals increasing and never reuse one: an old peer reads an unknown member as
    # "not one I know" and refuses it.
    head @5 :Head;
    push @6 :Push;
    ack @7 :Ack;
    pull @8 :Pull;
    deliver @9 :Deliver;
    caughtUp @10 :CaughtUp;
    drop @11 :Drop;
    dropped @12 :Dropped;
  }
}

enum Role {
  node @0;     # an establishment's node: reads its scopes, pushes its changesets
  partner @1;  # a partner: reads the scopes shared with it, never writes
}

struct Hello {
  version @0 :UInt16;  # the protocol version the node speaks
  role @1 :Role;
  nodeKey @2 :Data;    # the node's Ed25519 public key, 32 bytes
}

struct Challenge {
  version @0 :UInt16;  # the protocol version the hub speaks
  nonce @1 :Data;      # 32 random bytes, fresh for this connection
  hubKey @2 :Data;     # the hub's Ed25519 public key, 32 bytes
}

struct Auth {
  signature @0 :Data;  # 64 bytes; see "Handshake" above for the exact bytes signed
}

struct Welcome {
  establishment @0 :Text;  # the establishment the node's key is enrolled for
}

struct Refuse {
  reason @0 :Text;  # why, for a person to read
}

struct Head {
  seq @0 :UInt64;  # the last seq of the node's chain the hub holds; 0 for none
}

struct Push {
  changeset @0 :Data;  # one SignedChangeset
}

enum Outcome {
  accepted @0;
  duplicate @1;
  refused @2;
  gap @3;
  fork @4;
}

struct Ack {
  seq @0 :UInt64;
  outcome @1 :Outcome;
  reason @2 :Text;      # refused, fork: why
  expected @3 :UInt64;  # gap: the seq the hub waits for
  hubSeq @4 :UInt64;    # accepted: its place in the hub log
}

struct Cursor {
  scope @0 :Text;
  hubSeq @1 :UInt64;  # the last hub seq of the scope applied; 0 for none
}

struct Pull {
  cursors @0 :List(Cursor);
}

struct Delivered {
  hubSeq @0 :UInt64;
  scope @1 :Text;
  changeset @2 :Data;  # one SignedChangeset, as its origin signed it
}

struct Deliver {
  entries @0 :List(Delivered);
}

struct CaughtUp {
  hubSeq @0 :UInt64;
}

struct Drop {
  scope @0 :Text;  # a scope the node may no longer read
}

struct Dropped {
  scope @0 :Text;  # the node purged it
}
