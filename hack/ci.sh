#!/usr/bin/env bash
# The whole test suite, as CI runs it: the harness, static checks and the
# release check (a GoReleaser snapshot of every target), then every test,
# the acceptance tests against real libvirtd, Packer and Glance among them.
# It ends, passed or not, with a table of where the time went: each phase,
# each test package, and the total against the CI budget.
source "$(dirname "$0")/lib.sh"
require_root
cd "$REPO_DIR"
t0=$SECONDS
: >"$TIMINGS"
trap 'timing_table "$((SECONDS - t0))"' EXIT

timed harness "$HACK_DIR/harness.sh"

log "ci: static checks"
static() {
  local unformatted
  mapfile -t go_files < <(git ls-files '*.go')
  unformatted=$(gofmt -l "${go_files[@]}")
  [ -z "$unformatted" ] || die "gofmt would change: $unformatted"
  go vet ./...
}
timed "static: gofmt, go vet" static
timed "static: lint" "$HACK_DIR/lint.sh"
timed "static: generate --check" "$HACK_DIR/generate.sh" --check
timed "static: plugin-check" make --no-print-directory plugin-check
timed release-check "$HACK_DIR/release-check.sh"

log "ci: tests"
# shellcheck disable=SC1090
. "$ENV_FILE"
# Two test binaries run at a time (2 cores); the longest acceptance
# package goes first, so that none starts last and runs alone. test/verify
# runs the main job and, as soon as its image is made, the runs on it, two
# at a time beside it (subtests the main job starts, not parallel tests:
# waiting for the image in -parallel slots could starve the job itself).
tests() {
  PACKER_ACC=1 go test -count=1 -timeout=80m -parallel 3 -v \
    ./test/verify ./test/builder ./test/sysprep ./test/harness ./... 2>&1 | tee "$LOG_DIR/go-test.log"
  local rc=${PIPESTATUS[0]}
  # Each package's own time, from go test's summary lines.
  awk '$1 == "ok" || $1 == "FAIL" { if ($3 ~ /s$/) { sub(/s$/, "", $3); sub(/^github.com\/cloudimage\/packer-plugin-cloudimage\//, "", $2); printf "  test %s\t%d\n", $2, $3 } }' \
    "$LOG_DIR/go-test.log" >>"$TIMINGS"
  return "$rc"
}
timed "tests (two packages at a time)" tests
log "ci: passed in $((SECONDS - t0))s"
