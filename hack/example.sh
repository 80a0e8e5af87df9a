#!/usr/bin/env bash
# The main job: the self-contained example build (example/local.pkr.hcl) on
# the embedded defaults: local libvirt, the fixture installer ISO, the local
# Glance from the harness.
source "$(dirname "$0")/lib.sh"
require_root
"$HACK_DIR/harness.sh"
# shellcheck disable=SC1090
. "$ENV_FILE"
cd "$REPO_DIR/example"
ln -sfn "$CLOUDIMAGE_FIXTURE_RAWGZ" http/debian12.raw.gz
export CHECKPOINT_DISABLE=1
"$PACKER_BIN" init local.pkr.hcl
"$PACKER_BIN" validate local.pkr.hcl
"$PACKER_BIN" build -force local.pkr.hcl 2>&1 | tee "$LOG_DIR/example-build.log"
