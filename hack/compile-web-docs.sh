#!/usr/bin/env bash
# compile-web-docs.sh RENDERED_DOCS WEB_DOCS: lays the rendered docs out the
# way the Packer integrations registry reads them: README.md at the top and
# components/<type>/<name>/README.md, front matter removed.
set -euo pipefail
src=$1 dst=$2

strip_front_matter() { awk 'NR == 1 && /^---$/ {fm = 1; next} fm && /^---$/ {fm = 0; next} !fm' "$1"; }

rm -rf "$dst/components"
cp "$src/README.md" "$dst/README.md"
for kind in builders provisioners post-processors datasources; do
  [ -d "$src/$kind" ] || continue
  for f in "$src/$kind"/*.mdx; do
    name=$(basename "$f" .mdx)
    out=$dst/components/${kind%s}/$name
    mkdir -p "$out"
    strip_front_matter "$f" >"$out/README.md"
  done
done
