#!/usr/bin/env bash
# Installs the PowerShell parser the Windows checklist tests use
# (hack/psparse/parse.mjs): web-tree-sitter and tree-sitter's PowerShell
# grammar from the npm registry, pinned, without their install scripts
# (only the grammar's WebAssembly build is used). Cached across runs.
source "$(dirname "$0")/lib.sh"

dir=$CACHE_DIR/psparse
want="web-tree-sitter@0.25.10 tree-sitter-powershell@0.26.4"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  run_logged apt-nodejs apt-get install -y --no-install-recommends nodejs npm
fi
if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$want" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  (cd "$dir" && run_logged npm-psparse npm install --no-save --no-audit --no-fund --ignore-scripts --prefix "$dir" $want)
  echo "$want" >"$dir/.installed"
fi
# The parser must find a known error, or the tests' parse check proves nothing.
# shellcheck disable=SC2016 # $x is PowerShell's
printf 'function f {\n  if ($x) {\n' >"$dir/broken.ps1"
if PSPARSE_MODULES=$dir/node_modules node "$HACK_DIR/psparse/parse.mjs" "$dir/broken.ps1" >/dev/null 2>&1; then
  die "psparse: the PowerShell parser accepted a broken script"
fi
set_env PSPARSE_MODULES "$dir/node_modules"
log "psparse: $want in $dir"
