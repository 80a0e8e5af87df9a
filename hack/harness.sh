#!/usr/bin/env bash
# Installs and starts everything the tests and the example need, on a fresh
# Debian 12 machine, as root. Idempotent: a second run reuses what is there.
# Writes .harness/env, which `make testacc` and the example load.
source "$(dirname "$0")/lib.sh"
require_root

t0=$SECONDS
step() { # step NAME SCRIPT [ARGS]: runs a harness script and times it
  local s=$SECONDS name=$1; shift
  "$@" || die "harness step '$name' failed (logs in $LOG_DIR)"
  log "harness: $name took $((SECONDS - s))s"
  printf '  harness %s\t%d\n' "$name" "$((SECONDS - s))" >>"$TIMINGS"
}
step packages "$HACK_DIR/install-deps.sh"
step libvirt "$HACK_DIR/start-libvirt.sh"
step sshd "$HACK_DIR/start-sshd.sh"
step packer "$HACK_DIR/build-packer.sh"
step plugin "$HACK_DIR/install-plugin.sh"
step openstack "$HACK_DIR/openstack.sh" start
step psparse "$HACK_DIR/install-psparse.sh"
step fixtures "$HACK_DIR/fixtures/build.sh"
log "harness: ready in $((SECONDS - t0))s; load it with: . $ENV_FILE"
