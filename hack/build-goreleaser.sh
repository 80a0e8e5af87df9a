#!/usr/bin/env bash
# Builds GoReleaser from the Go module proxy, for the release check
# (hack/release-check.sh). The binary is cached: later runs reuse it.
source "$(dirname "$0")/lib.sh"

if [ -x "$GORELEASER_BIN" ] && "$GORELEASER_BIN" --version 2>/dev/null | grep -q "$GORELEASER_VERSION"; then
  log "goreleaser: cached $GORELEASER_BIN"
else
  log "goreleaser: building v$GORELEASER_VERSION from the module proxy (a few minutes the first time)"
  build_go_binary goreleaser github.com/goreleaser/goreleaser/v2 "v$GORELEASER_VERSION" github.com/goreleaser/goreleaser/v2 "$GORELEASER_BIN"
  log "goreleaser: built $("$GORELEASER_BIN" --version 2>&1 | grep -m1 -i gitversion)"
fi
set_env GORELEASER_BIN "$GORELEASER_BIN"
