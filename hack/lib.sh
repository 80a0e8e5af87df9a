# Shared by every harness script: where things live, logging, and failing
# with a message that says which step broke and where its log is.
# shellcheck shell=bash

set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$HACK_DIR/.." && pwd)

# Build products reused across runs and clones (Packer binary, fixtures).
CACHE_DIR=${CLOUDIMAGE_CACHE:-/var/cache/cloudimage-test}
# Per-checkout state: service databases, PIDs, logs, the env file tests read.
STATE_DIR=${CLOUDIMAGE_STATE:-$REPO_DIR/.harness}
LOG_DIR=$STATE_DIR/logs
ENV_FILE=$STATE_DIR/env

# Read by the scripts that source this file (SC2034: unused in it).
PACKER_VERSION=1.15.0
# shellcheck disable=SC2034
PACKER_BIN=$CACHE_DIR/packer-$PACKER_VERSION
GORELEASER_VERSION=2.15.1
# shellcheck disable=SC2034
GORELEASER_BIN=$CACHE_DIR/goreleaser-$GORELEASER_VERSION
# shellcheck disable=SC2034
PLUGIN_ADDRESS=github.com/cloudimage/cloudimage

mkdir -p "$CACHE_DIR" "$STATE_DIR" "$LOG_DIR"

log() { printf '==> %s\n' "$*" >&2; }

# Where the phases of a CI run record their times, for timing_table.
TIMINGS=$STATE_DIR/timings.tsv
# The CI budget (seconds) the table measures against.
CI_BUDGET=$((45 * 60))

# timed NAME CMD...: runs CMD and records how long it took, failed or not.
timed() {
  local name=$1 s=$SECONDS rc=0
  shift
  "$@" || rc=$?
  printf '%s\t%d\n' "$name" "$((SECONDS - s))" >>"$TIMINGS"
  return "$rc"
}

# timing_table TOTAL: prints the recorded times and the total.
timing_table() {
  [ -s "$TIMINGS" ] || return 0
  {
    printf '\n%-52s %8s\n' "phase" "seconds"
    awk -F '\t' '{ printf "%-52s %8d\n", $1, $2 }' "$TIMINGS"
    printf '%-52s %8d  (%dm%02ds; budget %dm)\n' "total" "$1" "$(($1 / 60))" "$(($1 % 60))" "$((CI_BUDGET / 60))"
  } >&2
}

# median: the median of the numbers on stdin, one a line.
median() {
  sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

# run_logged NAME CMD...: runs CMD with its output in $LOG_DIR/NAME.log and,
# when it fails, shows the log's tail so CI output says what went wrong.
run_logged() {
  local name=$1; shift
  local logf=$LOG_DIR/$name.log
  if ! "$@" >"$logf" 2>&1; then
    printf 'ERROR: %s failed; last lines of %s:\n' "$name" "$logf" >&2
    tail -n 40 "$logf" >&2
    return 1
  fi
}

require_root() {
  [ "$(id -u)" -eq 0 ] || die "the harness installs packages and starts libvirtd: run it as root (sudo)"
}

# wait_for DESCRIPTION SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}

# set_env KEY VALUE: records a variable in the env file that tests and the
# example read, replacing an earlier value.
set_env() {
  touch "$ENV_FILE"
  local tmp
  tmp=$(mktemp "$ENV_FILE.XXXX")
  grep -v "^export $1=" "$ENV_FILE" >"$tmp" || true
  printf 'export %s=%q\n' "$1" "$2" >>"$tmp"
  mv "$tmp" "$ENV_FILE"
}

# The Debian mirror this machine's apt uses, so debootstrap needs no host name
# of its own. DEBIAN_MIRROR overrides it.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n1)
  [ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v -- '-security' | head -n1)
  [ -n "$m" ] || die "no Debian mirror found in apt's sources; set DEBIAN_MIRROR"
  echo "$m"
}

# build_go_binary NAME MODULE VERSION PACKAGE OUT [GO.MOD LINES]: builds
# PACKAGE of MODULE@VERSION into OUT from the Go module proxy, in a throwaway
# module of its own under the cache (the proxy serves pinned versions, not
# `go install X@latest`), with extra go.mod lines such as a replace.
build_go_binary() {
  local name=$1 module=$2 version=$3 pkg=$4 out=$5 extra=${6:-}
  local src=$CACHE_DIR/$name-src
  mkdir -p "$src"
  printf 'module %sbin\n\ngo 1.26\n\nrequire %s %s\n\n%s\n' "$name" "$module" "$version" "$extra" >"$src/go.mod"
  printf '//go:build tools\n\npackage %sbin\n\nimport _ "%s"\n' "$name" "$pkg" >"$src/tools.go"
  (cd "$src" && run_logged "$name-build" sh -c "go mod tidy && go build -o '$out.tmp' '$pkg'")
  mv "$out.tmp" "$out"
}
