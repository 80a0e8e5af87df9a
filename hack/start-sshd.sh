#!/usr/bin/env bash
# Starts an SSH server on 127.0.0.1:10022 that logs root in with a key of
# its own, so that qemu+ssh:// is tested against real sshd and libvirtd: the
# libvirt connection, the tunnels to QEMU's forwarded ports and the port
# reservations all go over it. Loopback only; a test machine. Writes
# CLOUDIMAGE_LIBVIRT_SSH_URI, with the key and a known_hosts file that
# holds the server's key: the host key is checked, not ignored.
source "$(dirname "$0")/lib.sh"
require_root

PORT=10022
D=$STATE_DIR/sshd
URI="qemu+ssh://root@127.0.0.1:$PORT/system?keyfile=$D/client_ed25519&known_hosts=$D/known_hosts"
mkdir -p "$D" /run/sshd
chmod 700 "$D"
[ -f "$D/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$D/host_ed25519"
[ -f "$D/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$D/client_ed25519"
cp "$D/client_ed25519.pub" "$D/authorized_keys"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$D/host_ed25519.pub")" >"$D/known_hosts"
cat >"$D/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $D/host_ed25519
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
StrictModes no
CONF

ssh_ok() {
  ssh -n -p "$PORT" -i "$D/client_ed25519" -o BatchMode=yes -o UserKnownHostsFile="$D/known_hosts" \
    -o StrictHostKeyChecking=yes root@127.0.0.1 true
}
if [ -f "$D/sshd.pid" ] && kill -0 "$(cat "$D/sshd.pid")" 2>/dev/null && ssh_ok; then
  log "sshd: already answering on 127.0.0.1:$PORT"
else
  if [ -f "$D/sshd.pid" ]; then kill "$(cat "$D/sshd.pid")" 2>/dev/null || true; fi
  /usr/sbin/sshd -f "$D/sshd_config" -E "$LOG_DIR/sshd.log" || die "sshd did not start (see $LOG_DIR/sshd.log)"
  wait_for "sshd on 127.0.0.1:$PORT" 30 ssh_ok
  log "sshd: started on 127.0.0.1:$PORT"
fi
set_env CLOUDIMAGE_LIBVIRT_SSH_URI "$URI"
