// tutelle-node: an establishment's node.
#include "node/commands.hpp"

int main(int argc, char** argv) {
  return tutelle::dispatch("tutelle-node", tutelle::node::commands(), argc, argv);
}
