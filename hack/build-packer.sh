#!/usr/bin/env bash
# Builds the Packer binary from the Go module proxy (Debian's packer is too
# old for required_plugins and plugin API x5.0). The binary is cached: later
# runs reuse it.
source "$(dirname "$0")/lib.sh"

if [ -x "$PACKER_BIN" ] && "$PACKER_BIN" version 2>/dev/null | grep -q "v$PACKER_VERSION"; then
  log "packer: cached $PACKER_BIN"
else
  log "packer: building v$PACKER_VERSION from the module proxy (about 5 minutes the first time)"
  # With the gob-capable go-cty fork that Packer and every plugin use.
  build_go_binary packer github.com/hashicorp/packer "v$PACKER_VERSION" github.com/hashicorp/packer "$PACKER_BIN" \
    'replace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.3'
  log "packer: built $("$PACKER_BIN" version | head -n1)"
fi
mkdir -p "$STATE_DIR/bin"
ln -sf "$PACKER_BIN" "$STATE_DIR/bin/packer"
set_env PACKER_BIN "$PACKER_BIN"
