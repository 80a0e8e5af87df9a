#!/usr/bin/env bash
# Builds the Packer binary from the Go module proxy (Debian's packer is too
# old for required_plugins and plugin API x5.0). The binary is cached: later
# runs reuse it.
source "$(dirname "$0")/lib.sh"

if [ -x "$PACKER_BIN" ] && "$PACKER_BIN" version 2>/dev/null | grep -q "v$PACKER_VERSION"; then
  log "packer: cached $PACKER_BIN"
else
  src=$CACHE_DIR/packer-src
  mkdir -p "$src"
  cat >"$src/go.mod" <<MOD
module packerbin

go 1.26

require github.com/hashicorp/packer v$PACKER_VERSION

// The gob-capable go-cty fork that Packer and every plugin use.
replace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.3
MOD
  cat >"$src/tools.go" <<'GO'
//go:build tools

package packerbin

import _ "github.com/hashicorp/packer"
GO
  log "packer: building v$PACKER_VERSION from the module proxy (about 5 minutes the first time)"
  (cd "$src" && run_logged packer-build sh -c "go mod tidy && go build -o '$PACKER_BIN.tmp' github.com/hashicorp/packer")
  mv "$PACKER_BIN.tmp" "$PACKER_BIN"
  log "packer: built $("$PACKER_BIN" version | head -n1)"
fi
mkdir -p "$STATE_DIR/bin"
ln -sf "$PACKER_BIN" "$STATE_DIR/bin/packer"
set_env PACKER_BIN "$PACKER_BIN"
