#!/usr/bin/env bash
# Compares two eval results.json files byte for byte, apart from the run's timestamp line.
# Exit 0 when they match; otherwise prints the differing lines and exits 1.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: tools/same-results.sh A/results.json B/results.json" >&2
  exit 2
fi
strip() { grep -v '^  "timestamp": ' "$1"; }
if diff <(strip "$1") <(strip "$2"); then
  echo "same results: $1 and $2 (timestamps aside)"
else
  echo "results differ: $1 and $2" >&2
  exit 1
fi
