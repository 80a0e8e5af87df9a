#!/usr/bin/env bash
# Regenerates the HCL2 specs (*.hcl2spec.go), the docs partials and the
# integration docs in .web-docs/ from the code. With --check, fails when the
# files in the work tree (a CI checkout: the committed ones) differ from what
# generation produces, naming them. With --docs, only the
# docs: .web-docs/ from docs/ and the committed partials, no go generate (the
# quick check that the compiled docs were committed with the docs).
source "$(dirname "$0")/lib.sh"

check=false docs_only=false
for arg; do
  case $arg in
    --check) check=true ;;
    --docs) docs_only=true ;;
    *) die "usage: $0 [--check] [--docs]" ;;
  esac
done

# packer-sdc struct-markdown finds the project root by its folder name,
# packer-plugin-*; a clone under another name generates through a link.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$REPO_DIR
if [[ $(basename "$root") != packer-plugin-* ]]; then
  ln -s "$REPO_DIR" "$tmp/packer-plugin-cloudimage"
  root=$tmp/packer-plugin-cloudimage
fi
cd "$root"

# generated_files: the files generation writes, as they are now.
generated_files() {
  find docs-partials .web-docs -type f
  $docs_only || find . -name '*.hcl2spec.go' -not -path './.git/*' -not -path './.harness/*'
}
if $check; then
  # What is there before: generation must not change it.
  generated_files | sort >"$tmp/before.list"
  mkdir "$tmp/before"
  xargs -r -d '\n' cp --parents -t "$tmp/before" <"$tmp/before.list"
fi

$docs_only || go generate ./...

# Partials no page includes. `packer-sdc struct-markdown` (go generate) writes
# a partial for every documented struct of a package and for its fields,
# whether or not a page of docs/ includes it (the struct's own doc comment,
# unexported helpers, a Config whose fields all live in embedded structs).
# Nothing reads such a partial, so it would only go stale in silence: the
# generated ones are deleted here, deliberately, after each generation (they
# come back as soon as a page of docs/ includes them, with `@include 'PATH'`).
# A hand-written partial that no page includes is not deleted; it is an error.
# --check fails when there was such a partial before it ran (a committed one,
# in CI), naming it.
included=$(find docs -name '*.mdx' -exec sed -n "s/^[[:space:]]*@include '\([^']*\)'.*/\1/p" {} + | sort -u)
orphans=() handmade=()
while IFS= read -r -d '' f; do
  grep -qxF "${f#docs-partials/}" <<<"$included" && continue
  orphans+=("$f")
  if [[ $(head -n 1 "$f") == '<!-- Code generated from the comments of '* ]]; then
    rm "$f"
  else
    handmade+=("$f")
  fi
done < <(find docs-partials -name '*.mdx' -print0 | sort -z)
find docs-partials -type d -empty -delete
[ ${#orphans[@]} -eq 0 ] || log "generate: partials included by no docs/**.mdx (generated ones deleted): ${orphans[*]}"
[ ${#handmade[@]} -eq 0 ] || die "generate: hand-written partials included by no docs/**.mdx: include or delete them: ${handmade[*]}"

rm -rf .docs
go tool packer-sdc renderdocs -src docs -partials docs-partials -dst .docs
"$HACK_DIR/compile-web-docs.sh" .docs .web-docs
rm -rf .docs

if $check; then
  generated_files | sort >"$tmp/after.list"
  stale=()
  while IFS= read -r f; do
    if printf '%s\n' "${orphans[@]}" | grep -xF "$f" >/dev/null; then
      stale+=("$f (included by no docs/**.mdx: generation deletes it)")
    else
      stale+=("$f (deleted by generation)")
    fi
  done < <(comm -23 "$tmp/before.list" "$tmp/after.list")
  while IFS= read -r f; do stale+=("$f (new)"); done < <(comm -13 "$tmp/before.list" "$tmp/after.list")
  while IFS= read -r f; do
    cmp -s "$f" "$tmp/before/$f" || { stale+=("$f (changed)"); diff -u "$tmp/before/$f" "$f" | head -n 20 >&2 || true; }
  done < <(comm -12 "$tmp/before.list" "$tmp/after.list")
  if [ ${#stale[@]} -gt 0 ]; then
    die "generated files are stale; run 'make generate' and commit:
$(printf '  %s\n' "${stale[@]}")"
  fi
  log "generated files are up to date"
fi
