#!/usr/bin/env bash
# The whole test suite, as CI runs it: the harness, static checks and the
# release check (a GoReleaser snapshot of every target), then every test,
# the acceptance tests against real libvirtd, Packer and Glance among them.
source "$(dirname "$0")/lib.sh"
require_root
cd "$REPO_DIR"
t0=$SECONDS

"$HACK_DIR/harness.sh"

log "ci: static checks"
unformatted=$(gofmt -l $(git ls-files '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"
go vet ./...
"$HACK_DIR/generate.sh" --check
make --no-print-directory plugin-check
"$HACK_DIR/release-check.sh"

log "ci: tests"
# shellcheck disable=SC1090
. "$ENV_FILE"
# Two test binaries run at a time (2 cores); the longest acceptance
# packages go first, so that none starts last and runs alone.
PACKER_ACC=1 go test -count=1 -timeout=85m -v \
  ./test/verify ./test/builder ./test/sysprep ./test/harness ./... 2>&1 | tee "$LOG_DIR/go-test.log"
log "ci: passed in $((SECONDS - t0))s"
