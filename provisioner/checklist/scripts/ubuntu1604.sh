# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Family ubuntu1604: Ubuntu 16.04 (systemd; ifupdown with cloud-init's
# interfaces.d; ufw; grub2; apt). Sourced after apt.sh and ifupdown.sh.
APT_COMPONENTS="main universe"

# --- L08 dhcp, L11 nic-hotplug: ifupdown rendered by cloud-init ---------------------
NIC_HOTPLUG="Ubuntu 16.04 configures a NIC added later at the next boot (cloud-init renders every NIC into /etc/network/interfaces.d)"
