#!/usr/bin/env bash
# Counts dropped boot-command keys: runs BUILDS (20) builds in a row of the
# ISO fixture, each typing a boot command of about 110 keys (upper and
# lower case, digits, shifted punctuation) at the isolinux prompt, and
# compares what the guest's kernel got on its command line (its "Command
# line:" in the serial console log) with what was typed. The ks URL names
# no file, so the installer powers off at once and a build takes about half
# a minute. Needs the harness (root).
#
#   TRANSPORT=libvirt|vnc   boot_key_transport (libvirt)
#   INTERVAL=20ms           boot_key_interval (unset: the builder's default)
#   BUILDS=20
#   BOOT_WAIT=3s            boot_wait ("auto" watches the screen)
source "$(dirname "$0")/lib.sh"
require_root
# shellcheck disable=SC1090
. "$ENV_FILE"
export CHECKPOINT_DISABLE=1
transport=${TRANSPORT:-libvirt} builds=${BUILDS:-20} interval=${INTERVAL:-} boot_wait=${BOOT_WAIT:-3s}

work=$(mktemp -d /tmp/cloudimage-bench-keys.XXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir "$work/http"
# 62 keys after m=, 30 of them shifted; none of them a template's "{{" or
# the grammar's "<".
marker='Zq9-Xw8_Vr7.Ut6,Ps5+On4=Ml3:Kj2@Ih1%Gf0^Ed~Cb!Ay#Tx/Rs;Qp*Nm&'
typed="install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/missing.cfg m=$marker"
interval_line=
[ -z "$interval" ] || interval_line="boot_key_interval  = \"$interval\""
cat >"$work/keys.pkr.hcl" <<HCL
source "cloudimage-libvirt" "keys" {
  iso_url            = "$CLOUDIMAGE_FIXTURE_ISO"
  iso_checksum       = "none"
  domain_type        = "qemu"
  network_mode       = "user"
  vm_name            = "cloudimage-bench-keys"
  disk_size          = "64M"
  http_directory     = "$work/http"
  boot_wait          = "$boot_wait"
  boot_key_transport = "$transport"
  $interval_line
  boot_command       = ["$typed<enter>"]
  communicator       = "none"
  shutdown_timeout   = "5m"
  output_directory   = "$work/out"
}
build { sources = ["source.cloudimage-libvirt.keys"] }
HCL

keys=$(( ${#marker} + 40 ))
printf 'transport %s, interval %s, %d builds, about %d keys each\n' "$transport" "${interval:-${PACKER_KEY_INTERVAL:-default}}" "$builds" "$keys"
dropped=0
for i in $(seq "$builds"); do
  rm -rf "$work/out"
  s=$SECONDS
  "$PACKER_BIN" build "$work/keys.pkr.hcl" >"$work/build.log" 2>&1 || { tail -n 20 "$work/build.log"; die "build $i failed"; }
  got=$(grep -a -m1 -o 'Command line: .*' "$work/out/console.log" | tr -d '\r') || die "build $i: no kernel command line in the console log"
  if [[ $got == *" ks=http://10.0.2.2:"*"/missing.cfg m=$marker" ]]; then
    result=ok
  else
    result="DROPPED: $got"
    dropped=$((dropped + 1))
  fi
  printf 'build %2d  %3d s  %s\n' "$i" $((SECONDS - s)) "$result"
done
printf 'dropped: %d of %d builds\n' "$dropped" "$builds"
[ "$dropped" -eq 0 ]
