# Tutelle's data: values, operations, changesets and the merged state of a record.
#
# Canonical encoding, hashing and signing
# ---------------------------------------
# A changeset is built as a `Changeset` message and encoded in Cap'n Proto canonical form
# (capnp::canonicalize: one segment, no far pointers, objects in pre-order, no padding bytes of
# unset data, trailing zero words of structs trimmed). Those bytes are the *body*.
#
# - The changeset hash is BLAKE2b-256 (libsodium crypto_generichash, no key) of the body.
#   `prev` holds the hash of the origin's previous changeset (32 zero bytes for seq 1).
# - The signature is Ed25519 (libsodium crypto_sign_detached) by the origin's secret key over
#   the ASCII bytes "tutelle/changeset/1" followed by one zero byte, then the 32 bytes of the
#   changeset hash. The prefix keeps a changeset signature from ever being valid for any other
#   message we sign. Signing the hash rather than the body spares Ed25519's two SHA-512 passes
#   over a large body; the hash is computed anyway, for `prev`.
# - On the wire and in the log a changeset travels as a `SignedChangeset`: the origin key, the
#   body and the signature. A receiver checks the signature over the body with `origin`, then
#   decodes the body with traversal limits, then checks that the body's origin equals `origin`.
#   Nothing of the body is read before its signature is checked.
#
# Field by field, see the comments below. Texts are UTF-8. Keys are 32 bytes, hashes 32 bytes,
# signatures 64 bytes; any other length is refused.

@0xfb0f98363f0166b7;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tutelle::schema");

struct Value {
  # One value of a field. Its interpretation comes from the field's kind in the catalogue:
  # text, decimal ("-12.50", no exponent), date ("YYYY-MM-DD"), reference (a record id) and
  # identifier (its normalised form) are all `text`.
  union {
    none @0 :Void;
    text @1 :Text;
    integer @2 :Int64;
    boolean @3 :Bool;
  }
}

struct Dot {
  # The unique name of one operation: the index-th operation of changeset (origin, seq).
  origin @0 :Data;
  seq @1 :UInt64;
  index @2 :UInt32;
}

struct Operation {
  record @0 :Text;     # the record's id
  type @1 :Text;       # the record's type, a name of the catalogue
  field @2 :Text;      # the field; empty for `delete`
  union {
    set @3 :Assign;        # give a single-valued field a value
    add @4 :Value;         # add an element to a set field; the operation's dot tags it
    remove @5 :List(Dot);  # remove from a set field the elements tagged with these dots
    delete @6 :List(Dot);  # delete the record: every dot the author saw in it
    resolve @7 :Assign;    # like set, superseding every value of a conflict
  }

  struct Assign {
    value @0 :Value;
    supersedes @1 :List(Dot);  # the dots of the values the author saw in the field
  }
}

struct Changeset {
  version @0 :UInt16;        # 1
  origin @1 :Data;           # the origin node's Ed25519 public key
  establishment @2 :Text;    # the UAI the origin is enrolled for
  seq @3 :UInt64;            # 1, 2, 3… per origin
  prev @4 :Data;             # hash of the origin's changeset seq - 1; zeros for seq 1
  hlc @5 :UInt64;            # hybrid logical clock: milliseconds << 16 | counter
  author @6 :Text;           # eduPersonPrincipalName of the person who made the edit
  scope @7 :Text;            # the home of every record the operations touch
  operations @8 :List(Operation);
}

struct SignedChangeset {
  origin @0 :Data;           # equal to the body's origin; read first to check the signature
  body @1 :Data;             # canonical bytes of a Changeset message
  signature @2 :Data;        # Ed25519 over "tutelle/changeset/1\0" || BLAKE2b-256(body)
}

struct Entry {
  # One live value of a field: the value, the dot of the operation that wrote it (or added it,
  # for a set element), that operation's clock and the establishment of its origin.
  dot @0 :Dot;
  hlc @1 :UInt64;
  establishment @2 :Text;
  value @3 :Value;
}

struct FieldState {
  name @0 :Text;
  entries @1 :List(Entry);   # sorted by dot; several for a conflict or a set
}

struct RecordState {
  # The merged state of a record, as the store keeps it. Fields are sorted by name, entries by
  # dot, so equal states encode to equal bytes.
  id @0 :Text;
  type @1 :Text;
  home @2 :Text;
  fields @3 :List(FieldState);
}
