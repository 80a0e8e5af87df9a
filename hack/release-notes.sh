#!/usr/bin/env bash
# release-notes.sh [--released] VERSION: prints the section of CHANGELOG.md
# for VERSION (a leading v is dropped), without its "## VERSION (...)"
# heading: the release notes GoReleaser publishes (--release-notes; the
# release workflow writes them to a file). Fails when CHANGELOG.md has no
# such section or it is empty; with --released, also when its heading still
# says "(Unreleased)" (a tag must come with a dated section).
set -euo pipefail
released=false
if [ "${1:-}" = --released ]; then released=true; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--released] VERSION" >&2; exit 2; }
version=${1#v}
changelog=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/CHANGELOG.md

heading=$(grep -m 1 -E "^## v?${version//./\\.}( |$)" "$changelog" || true)
[ -n "$heading" ] || { echo "release-notes: no '## $version' section in $changelog" >&2; exit 1; }
if $released && grep -qi 'unreleased' <<<"$heading"; then
  echo "release-notes: $changelog still says '$heading': date it before tagging v$version" >&2
  exit 1
fi
# The lines under the heading, up to the next "## " (outside code blocks),
# without the blank lines around them.
notes=$(awk -v h="$heading" '
  /^(```|~~~)/ { fence = !fence }
  !fence && /^## / { if (on) { on = 0; done = 1 } else if ($0 == h && !done) { on = 1; next } }
  on { print }' "$changelog" | sed -e '/./,$!d')
[ -n "$notes" ] || { echo "release-notes: the '$heading' section of $changelog is empty" >&2; exit 1; }
printf '%s\n' "$notes"
