# Tutelle's data: values, operations, changesets and the merged state of a record.
#
# Canonical encoding, hashing and signing
# ---------------------------------------
# A changeset is built as a `Changeset` message and encoded in Cap'n Proto canonical form
# (capnp::canonicalize: one segment, no far pointers, objects in pre-order, no padding bytes of
# unset data, trailing zero words of structs trimmed), then packed (capnp::writePackedMessage:
# the one-segment table, then each word as a tag byte and its non-zero bytes), then compressed
# as one zlib stream (RFC 1950: deflate at level 1, then the Adler-32 of the packed bytes).
# Those bytes are the *body*: what is hashed, signed, stored and sent. The origin produces a
# body once and everyone keeps and forwards those very bytes; no one re-encodes a changeset to
# check it, so the body needs no second producer to agree with it byte for byte (another zlib
# build may deflate the same message differently, into another valid body).
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
#   inflates it (refusing more than a bound set by its size), unpacks it (the unpacked size is
#   bounded before any word is unpacked) and decodes it with traversal limits, then checks that
#   the body's origin equals `origin`. Nothing of the body is read before its signature is
#   checked.
#
# Field by field, see the comments below. Texts are UTF-8. Keys are 32 bytes, hashes 32 bytes,
# signatures 64 bytes; any other length is refused. A record state (`RecordState`) is stored
# canonical and unpacked: it is never signed.

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

struct Operations {
  # The operations of a changeset, column by column, so that what many operations share is
  # written once. Operation i is made of element i of each per-operation column; every
  # per-operation column has as many elements as `shapes`.
  #
  # An operation names a record, a field, maybe a value, and dots:
  #   set      give a single-valued field `value`; its dots are those it supersedes (the values
  #            its author saw in the field)
  #   add      add `value` to a set field; the operation's own dot tags the element
  #   remove   remove from a set field the elements tagged with its dots
  #   delete   delete the record: its dots are every dot the author saw in it; field ""
  #   resolve  like set, superseding every value of a conflict
  #   merge    fold the record into the record whose id is `value` (a text): its dots are every
  #            dot the author saw in it, superseded as by delete; field ""
  #
  # Tables, each entry once, in the order the operations first use it (the encoder's order):
  records @0 :List(Data);         # the record ids, each as a key (see recordTypes)
  recordTypes @1 :List(UInt32);   # for each entry of `records`: its type, an index into `types`,
                                  # times 2, plus 1 when the id is a random id: "<type>:" and 24
                                  # lowercase hex digits, whose key is the 12 bytes the digits
                                  # spell; plus 0 when the key is the id's bytes. An entry is a
                                  # pair (id, type).
  types @2 :List(Text);           # record type names, of the catalogue
  fields @3 :List(Text);          # field names; "" for delete and merge
  origins @4 :List(Data);         # origin keys (32 bytes) of the dots, the changeset's own
                                  # origin excepted
  changesets @5 :List(Seen);      # the changesets the dots belong to

  # Per-operation columns:
  shapes @6 :List(UInt8);         # bits 0-2 the kind: 0 set, 1 add, 2 remove, 3 delete,
                                  # 4 resolve, 5 merge; bits 3-5 the value's kind: 0 none,
                                  # 1 text, 2 integer, 3 false, 4 true; bits 6-7 how many dots
                                  # the operation names: 0, 1 or 2, or 3 for "see dotCounts"
  record @7 :List(UInt32);        # index into `records`
  field @8 :List(UInt32);         # index into `fields`
  dotCounts @9 :List(UInt32);     # the dot count of each operation whose shape says 3, in order

  # Values, in operation order, of the operations whose value is of that kind:
  texts @10 :Data;                # the text values, one after the other
  textLengths @11 :List(UInt32);  # the length in bytes of each text value
  integers @12 :List(Int64);

  # Dots, of every operation in operation order; the shapes and dotCounts say which are whose:
  dots @13 :List(DotRef);

  struct Seen {
    origin @0 :UInt32;  # 0: the changeset's own origin; k: origins[k - 1]
    seq @1 :UInt64;
  }

  struct DotRef {
    changeset @0 :UInt32;  # index into `changesets`
    index @1 :UInt32;      # the operation's index in that changeset
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
  operations @8 :Operations;
}

struct SignedChangeset {
  origin @0 :Data;           # equal to the body's origin; read first to check the signature
  body @1 :Data;             # a Changeset message: canonical, packed, deflated
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
