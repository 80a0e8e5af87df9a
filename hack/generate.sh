#!/usr/bin/env bash
# Regenerates the HCL2 specs (*.hcl2spec.go), the docs partials and the
# integration docs in .web-docs/ from the code. With --check, fails when the
# committed files differ from what generation produces.
source "$(dirname "$0")/lib.sh"

# packer-sdc struct-markdown finds the project root by its folder name,
# packer-plugin-*; a clone under another name generates through a link.
root=$REPO_DIR
if [[ $(basename "$root") != packer-plugin-* ]]; then
  linkdir=$(mktemp -d)
  trap 'rm -rf "$linkdir"' EXIT
  ln -s "$REPO_DIR" "$linkdir/packer-plugin-cloudimage"
  root=$linkdir/packer-plugin-cloudimage
fi
cd "$root"
go generate ./...
rm -rf .docs
go tool packer-sdc renderdocs -src docs -partials docs-partials -dst .docs
"$HACK_DIR/compile-web-docs.sh" .docs .web-docs
rm -rf .docs

if [ "${1:-}" = "--check" ]; then
  stale=$(git -C "$REPO_DIR" status --porcelain -- '*.hcl2spec.go' docs-partials .web-docs)
  if [ -n "$stale" ]; then
    git -C "$REPO_DIR" --no-pager diff --stat -- '*.hcl2spec.go' docs-partials .web-docs >&2
    die "generated files are stale; run 'make generate' and commit:
$stale"
  fi
  log "generated files are up to date"
fi
