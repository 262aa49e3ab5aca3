# One interface target carries the warning flags; every Tutelle target links it.
add_library(tutelle_warnings INTERFACE)
add_library(tutelle::warnings ALIAS tutelle_warnings)
target_compile_options(tutelle_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference)
if(TUTELLE_WERROR)
  target_compile_options(tutelle_warnings INTERFACE -Werror)
endif()
