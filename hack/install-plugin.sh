#!/usr/bin/env bash
# Builds the plugin from this checkout and installs it into the harness's
# plugin directory with `packer plugins install --path`, so `packer init`
# finds it without any network.
source "$(dirname "$0")/lib.sh"

plugins=$STATE_DIR/plugins
bin=$STATE_DIR/bin/packer-plugin-cloudimage
mkdir -p "$plugins" "$STATE_DIR/bin"
(cd "$REPO_DIR" && run_logged plugin-build go build -o "$bin" .)
# Replace an earlier install of the same version: packer refuses to
# overwrite, and a stale binary would hide this checkout's changes.
rm -rf "$plugins/github.com/cloudimage"
PACKER_PLUGIN_PATH=$plugins run_logged plugin-install "$PACKER_BIN" plugins install --path "$bin" "$PLUGIN_ADDRESS"
set_env PACKER_PLUGIN_PATH "$plugins"
set_env PACKER_PLUGIN_BINARY "$bin"
log "plugin: installed $(PACKER_PLUGIN_PATH=$plugins "$PACKER_BIN" plugins installed | tail -n1)"
