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
set +e
"$PACKER_BIN" build -force local.pkr.hcl 2>&1 | tee "$LOG_DIR/example-build.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ] && grep -q "cannot run yet" "$LOG_DIR/example-build.log"; then
  die "the example stops where the implementation stops: the builder installed the guest from the ISO, the checklist provisioner applied and checked the OpenStack checklist (report: example/output-debian12/checklist.json), the disk was exported and cloudimage-sysprep cleaned it (example/output-debian12/cloudimage-example-debian12.qcow2); the verify and glance post-processors are not written yet"
fi
exit "$rc"
