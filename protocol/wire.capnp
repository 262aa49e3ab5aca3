# The sync protocol between nodes and the hub. See net/ and the prose below.
@0xf5321b1983301953;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("tutelle::wire");

struct Placeholder {
  version @0 :UInt16;
}
