#!/usr/bin/env bash
# Static checks beyond gofmt and go vet: golangci-lint (.golangci.yml) on the
# Go code and actionlint on the GitHub workflows (.github/workflows), at the
# versions pinned in tools/go.mod (its own module, so that the plugin's
# go.mod stays as it is; `go tool` builds them once and caches them), and
# ShellCheck on every shell script of the project. Needs no root.

# lib.sh makes its cache folder, under /var/cache unless CLOUDIMAGE_CACHE
# says otherwise; lint keeps nothing there, and a user gets one of their own.
if [ "$(id -u)" -ne 0 ] && [ -z "${CLOUDIMAGE_CACHE:-}" ]; then
  export CLOUDIMAGE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/cloudimage-test
fi
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"
t0=$SECONDS

command -v go >/dev/null || die "lint: no go on PATH"
command -v shellcheck >/dev/null ||
  die "lint: no shellcheck on PATH: install it (apt-get install shellcheck; hack/install-deps.sh does)"

failed=()

log "lint: golangci-lint $(sed -n 's|^\tgithub.com/golangci/golangci-lint/v2 \(v[^ ]*\).*|\1|p' tools/go.mod)"
if ! go tool -modfile=tools/go.mod golangci-lint run ./...; then
  failed+=("golangci-lint (.golangci.yml)")
fi

# actionlint: the workflows' syntax, expressions, contexts and action
# inputs; it runs shellcheck on their `run:` scripts. Then every action must
# be pinned by a full commit SHA, with the release it is as a comment.
log "lint: actionlint $(sed -n 's|^\tgithub.com/rhysd/actionlint \(v[^ ]*\).*|\1|p' tools/go.mod) on .github/workflows"
if ! go tool -modfile=tools/go.mod actionlint -shellcheck "$(command -v shellcheck)"; then
  failed+=("actionlint (.github/workflows)")
fi
unpinned=$(grep -nE '^[[:space:]-]*uses:' .github/workflows/*.y*ml |
  grep -vE 'uses:[[:space:]]*(\./|[^@[:space:]]+@[0-9a-f]{40}[[:space:]]+#[[:space:]]*[^[:space:]])' || true)
if [ -n "$unpinned" ]; then
  while IFS= read -r line; do
    printf '%s: action not pinned by a commit SHA with a "# vX.Y.Z" comment\n' "$line" >&2
  done <<<"$unpinned"
  failed+=("unpinned actions in .github/workflows")
fi

# The project's shell scripts: *.sh, and the files git has whose first line
# runs a shell (the fixture ISO's init, the family tests' stubs). Not the
# trees of testdata/trees: copies of a distribution's own files, as they are.
# A script with neither a #! line nor a "# shellcheck shell=" directive is
# read as POSIX sh.
scripts=() undeclared=()
while IFS= read -r -d '' f; do
  [[ -f $f && ! -L $f ]] || continue
  case $f in */testdata/trees/*) continue ;; esac
  first=$(head -n 1 "$f")
  if [[ $first =~ ^#![[:space:]]*/[^[:space:]]*/(env[[:space:]]+|busybox[[:space:]]+)?(ba|da|k)?sh([[:space:]]|$) ]]; then
    scripts+=("$f")
  elif [[ $f == *.sh ]]; then
    if grep -q '^# shellcheck shell=' "$f"; then scripts+=("$f"); else undeclared+=("$f"); fi
  fi
done < <(git ls-files -z)

log "lint: shellcheck $(shellcheck --version | sed -n 's/^version: //p') on $((${#scripts[@]} + ${#undeclared[@]})) scripts"
# -x -P SCRIPTDIR: follows `source "$(dirname "$0")/lib.sh"`.
sc=(shellcheck --external-sources --source-path=SCRIPTDIR --format=gcc)
if ! "${sc[@]}" "${scripts[@]}"; then
  failed+=(shellcheck)
fi
if [ ${#undeclared[@]} -gt 0 ] && ! "${sc[@]}" --shell=sh "${undeclared[@]}"; then
  failed+=("shellcheck (read as sh: ${undeclared[*]})")
fi

if [ ${#failed[@]} -gt 0 ]; then
  die "lint: findings above from: $(printf '%s; ' "${failed[@]}" | sed 's/; $//')"
fi
log "lint: passed in $((SECONDS - t0))s"
