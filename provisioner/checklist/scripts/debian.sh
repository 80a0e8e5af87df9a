# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Family debian: Debian 10 to 13 (systemd; ifupdown, networkd or netplan). Sourced
# after apt.sh and ifupdown.sh.

NIC_HOTPLUG="Debian configures a NIC added later at the next boot (cloud-init renders every NIC)"
