#!/usr/bin/env bash
# Regenerates include/tokenward.h from ffi/src with the pinned cbindgen.
#   ffi/gen-header.sh          rewrite the header
#   ffi/gen-header.sh --check  regenerate into a temporary file; fail (exit 1) on any difference
# Installs the pinned cbindgen with `cargo install` when it is missing or another version.
set -euo pipefail
CBINDGEN_VERSION=0.29.4

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
header=$root/include/tokenward.h

cbindgen=$(command -v cbindgen || true)
if [[ -z $cbindgen && -x ${CARGO_HOME:-$HOME/.cargo}/bin/cbindgen ]]; then
  cbindgen=${CARGO_HOME:-$HOME/.cargo}/bin/cbindgen
fi
if [[ -z $cbindgen || $("$cbindgen" --version 2>/dev/null) != "cbindgen $CBINDGEN_VERSION" ]]; then
  echo "gen-header: installing cbindgen $CBINDGEN_VERSION" >&2
  cargo install --quiet --locked cbindgen --version "$CBINDGEN_VERSION" >&2
  cbindgen=${CARGO_HOME:-$HOME/.cargo}/bin/cbindgen
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$cbindgen" --quiet --config "$here/cbindgen.toml" --crate tokenward-ffi --output "$tmp" "$here"

case ${1:-} in
  --check)
    if ! diff -u "$header" "$tmp" >&2; then
      echo "gen-header: include/tokenward.h is out of date; run ffi/gen-header.sh and commit it" >&2
      exit 1
    fi
    echo "gen-header: include/tokenward.h is up to date"
    ;;
  "")
    cp "$tmp" "$header"
    echo "gen-header: wrote $header"
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
