package virt

import "strings"

// Network modes, the values of network_mode in the builder and verify.
const (
	NetworkUser    = "user"    // QEMU user-mode networking, ports forwarded
	NetworkLibvirt = "network" // a libvirt network
	NetworkBridge  = "bridge"  // a host bridge
)

// NetworkModes are the values network_mode accepts.
var NetworkModes = []string{NetworkUser, NetworkLibvirt, NetworkBridge}

// IsQ35 reports whether a machine type is a q35 one (q35, pc-q35-7.2):
// PCIe, SATA, and no IDE controller.
func IsQ35(machineType string) bool { return strings.Contains(machineType, "q35") }
