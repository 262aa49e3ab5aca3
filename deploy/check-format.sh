#!/usr/bin/env bash
# Fails when a project source file is not formatted as .clang-format says.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find . -name '*.[ch]pp' -not -path './build*')
[ ${#files[@]} -eq 0 ] && exit 0
if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/tutelle-format.log; then
  echo "check-format: these files need clang-format -i:" >&2
  grep -o '^[^:]*' /tmp/tutelle-format.log | sort -u >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
