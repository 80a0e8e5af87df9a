#!/usr/bin/env bash
# Prints the cloudimage-libvirt builder's own overhead on the ISO fixture,
# the time the builder adds around what the guest does:
#   start -> first boot key   `packer build` start to the first key typed
#   SSH ready -> connected    the guest's sshd answering (probed here every
#                             0.1 s on the forwarded port) to the
#                             communicator's connection
#   shutdown -> artifact      the shutdown request to the exported disk
#   export throughput         the builder's export against a plain
#                             `qemu-img convert` of the same disk
# Needs the harness (root); takes about five minutes under emulation.
source "$(dirname "$0")/lib.sh"
require_root
# shellcheck disable=SC1090
. "$ENV_FILE"
export CHECKPOINT_DISABLE=1

work=$(mktemp -d /tmp/cloudimage-bench.XXXX)
chmod 755 "$work"
packer_pid=
# On failure the folder stays, with Packer's logs, for a look.
cleanup() {
  local rc=$?
  [ -z "$packer_pid" ] || kill "$packer_pid" 2>/dev/null || true
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT
mkdir "$work/http"
ln -s "$CLOUDIMAGE_FIXTURE_RAWGZ" "$work/http/debian12.raw.gz"
printf 'image debian12.raw.gz\nrootpw bench-pw\nreboot\n' >"$work/http/ks.cfg"
cat >"$work/bench.pkr.hcl" <<HCL
source "cloudimage-libvirt" "bench" {
  iso_url          = "$CLOUDIMAGE_FIXTURE_ISO"
  iso_checksum     = "none"
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = "cloudimage-bench"
  cpus             = 2
  disk_size        = "3G"
  http_directory   = "$work/http"
  boot_wait        = "2s"
  boot_command     = ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]
  ssh_username     = "root"
  ssh_password     = "bench-pw"
  ssh_timeout      = "20m"
  shutdown_command = "systemctl poweroff"
  output_directory = "$work/out"
}
build { sources = ["source.cloudimage-libvirt.bench"] }
HCL

now() { date +%s.%N; }
t_start=$(now)
PACKER_LOG=1 PACKER_LOG_PATH=$work/packer.log "$PACKER_BIN" build -machine-readable "$work/bench.pkr.hcl" >"$work/ui.log" 2>&1 &
packer_pid=$!

# The guest's sshd is ready when the forwarded port sends an SSH banner
# (QEMU accepts the TCP connection before the guest listens).
port=
until [ -n "$port" ]; do
  kill -0 "$packer_pid" 2>/dev/null || die "packer exited early; see $work/ui.log"
  port=$(grep -o 'Forwarding 127.0.0.1:[0-9]*' "$work/ui.log" | head -n1 | cut -d: -f2 || true)
  sleep 0.1
done
t_ssh_ready=
while kill -0 "$packer_pid" 2>/dev/null; do
  if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && head -c 4 <&3" 2>/dev/null | grep -q SSH-; then
    t_ssh_ready=$(now)
    break
  fi
  sleep 0.1
done
wait "$packer_pid" || { tail -n 30 "$work/ui.log"; die "the build failed"; }

# Plugin log lines carry their own microsecond times.
at() {
  local line
  line=$(grep -m1 "$1" "$work/packer.log") || die "no line '$1' in $work/packer.log"
  grep -oE '[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8}\.[0-9]{6}' <<<"$line" | tail -n1 |
    { read -r d t; date -d "${d//\//-} $t" +%s.%N; }
}
t_first_key=$(at "typing the boot command")
t_connected=$(at "Running the provision hook")
t_shutdown=$(at "shutdown requested")
t_exported=$(at "export done")
export_line=$(grep -m1 "export done" "$work/packer.log")

disk=$work/out/cloudimage-bench.qcow2
t0=$(now)
qemu-img convert -O qcow2 "$disk" "$work/plain.qcow2"
t_plain=$(awk -v a="$(now)" -v b="$t0" 'BEGIN {print a - b}')
bytes=$(stat -c %s "$disk")

secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%6.2f s", a - b}'; }
echo "cloudimage-libvirt builder overhead (ISO fixture, TCG)"
echo "  start -> first boot key:   $(secs "$t_first_key" "$t_start")   (includes boot_wait 2s)"
echo "  SSH ready -> connected:    $(secs "$t_connected" "$t_ssh_ready")"
echo "  shutdown -> artifact:      $(secs "$t_exported" "$t_shutdown")   (guest poweroff included)"
echo "  export:                    ${export_line#*export done: }"
echo "  qemu-img convert (plain):  $bytes bytes in $(printf '%.2f' "$t_plain") s"
echo "  whole build:               $(secs "$t_exported" "$t_start")"
