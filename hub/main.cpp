// tutelle-hub: the national hub's command line.
#include "hub/commands.hpp"

int main(int argc, char** argv) {
  return tutelle::dispatch("tutelle-hub", tutelle::hub::commands(), argc, argv);
}
