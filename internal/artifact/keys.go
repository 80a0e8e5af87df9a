package artifact

import (
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// The keys of an artifact's state that this plugin's components write and
// read: the artifact contract. Post-processors read these through the
// getters below, and pass on every key they do not set themselves.
const (
	// KeyDiskPath is the disk image's path on this machine.
	KeyDiskPath = "disk_path"
	// KeyDiskFormat is its format as qemu-img names it (qcow2, raw, vmdk,
	// vhdx, vpc, vdi): the component that wrote the file knows it, and
	// every later qemu-img call names it (-f) instead of probing.
	KeyDiskFormat = "disk_format"
	// KeyVirtualSize is the disk's virtual size in bytes.
	KeyVirtualSize = "virtual_size"
	// KeyFirmware is the firmware the guest was built with: bios or uefi.
	KeyFirmware = "firmware"
	// KeyMachineType is the QEMU machine type (pc, q35, pc-q35-7.2).
	KeyMachineType = "machine_type"
	// KeyArchitecture is the guest's architecture as Nova and Glance name
	// it (x86_64).
	KeyArchitecture = "architecture"
	// KeyDiskInterface and KeyNetDevice are the builder's disk bus
	// (virtio, virtio-scsi, sata, ide) and NIC model (virtio, e1000...):
	// the drivers the image is known to boot with, for Glance's
	// hw_disk_bus, hw_scsi_model and hw_vif_model.
	KeyDiskInterface = "disk_interface"
	KeyNetDevice     = "net_device"
	// KeySecureBoot is true when the guest was built with UEFI Secure
	// Boot on (Glance's os_secure_boot).
	KeySecureBoot = "secure_boot"
	// KeyAdminUser is the user whose password the guest agent was proved
	// to reset (cloudimage-verify's L07): Glance's os_admin_user, the user
	// `nova set-password` changes.
	KeyAdminUser = "admin_user"
	// KeyGuest is cloudimage-sysprep's inspection of the guest (a map of
	// strings: os_type, distro, major_version, minor_version, product_name,
	// hostname...).
	KeyGuest = "guest"
	// KeyConsoleLog is the builder's serial console log (for users:
	// `artifact.State("console_log")` in a shell-local post-processor, as
	// `${build.ConsoleLog}` in a provisioner).
	KeyConsoleLog = "console_log"
	// KeyGeneratedData is the builder's `${build.X}` data, which Packer
	// core reads from this key for the post-processors' templates.
	KeyGeneratedData = "generated_data"
	// KeyFormats is cloudimage-sysprep's outputs: format -> path.
	KeyFormats = "formats"
	// KeyChecksums is cloudimage-sysprep's checksums: "<path>.<type>" ->
	// hex sum, as written beside each output.
	KeyChecksums = "checksums"
	// KeyImageID, KeyImageName and KeyRegion are cloudimage-glance's image.
	KeyImageID   = "image_id"
	KeyImageName = "image_name"
	KeyRegion    = "region"
)

// contractKeys are every key above: what a post-processor passes on.
var contractKeys = []string{
	KeyDiskPath, KeyDiskFormat, KeyVirtualSize, KeyFirmware, KeyMachineType, KeyArchitecture,
	KeyDiskInterface, KeyNetDevice, KeySecureBoot, KeyAdminUser, KeyGuest, KeyConsoleLog,
	KeyGeneratedData, KeyFormats, KeyChecksums, KeyImageID, KeyImageName, KeyRegion,
}

// Snapshot is the contract's keys of a, as a post-processor's artifact
// passes them on. It has to read them while PostProcess runs: once that
// returns an artifact other than its input, the SDK closes the input's
// RPC connection, and the input answers nothing (every State is nil, its
// Files empty).
func Snapshot(a packersdk.Artifact) map[string]interface{} {
	m := make(map[string]interface{}, len(contractKeys))
	for _, k := range contractKeys {
		if v := a.State(k); v != nil {
			m[k] = v
		}
	}
	return m
}

// DiskPath is the artifact's "disk_path", "" if it names none.
func DiskPath(a packersdk.Artifact) string { return stringOf(a, KeyDiskPath) }

// DiskFormat is the artifact's "disk_format", "" if it names none.
func DiskFormat(a packersdk.Artifact) string { return stringOf(a, KeyDiskFormat) }

// Firmware is the artifact's "firmware" (bios, uefi), "" if unknown.
func Firmware(a packersdk.Artifact) string { return stringOf(a, KeyFirmware) }

// MachineType is the artifact's "machine_type", "" if unknown.
func MachineType(a packersdk.Artifact) string { return stringOf(a, KeyMachineType) }

// Architecture is the artifact's "architecture", "" if unknown.
func Architecture(a packersdk.Artifact) string { return stringOf(a, KeyArchitecture) }

// DiskInterface is the artifact's "disk_interface", "" if unknown.
func DiskInterface(a packersdk.Artifact) string { return stringOf(a, KeyDiskInterface) }

// NetDevice is the artifact's "net_device", "" if unknown.
func NetDevice(a packersdk.Artifact) string { return stringOf(a, KeyNetDevice) }

// SecureBoot is the artifact's "secure_boot".
func SecureBoot(a packersdk.Artifact) bool {
	b, _ := a.State(KeySecureBoot).(bool)
	return b
}

// AdminUser is the artifact's "admin_user", "" if unknown.
func AdminUser(a packersdk.Artifact) string { return stringOf(a, KeyAdminUser) }

// Guest is cloudimage-sysprep's inspection of the guest; nil without one.
func Guest(a packersdk.Artifact) map[string]string { return StringMap(a, KeyGuest) }

// VirtualSize is the artifact's "virtual_size" in bytes, 0 if unknown.
// Through the SDK's RPC a number may arrive as any integer type.
func VirtualSize(a packersdk.Artifact) uint64 {
	switch v := a.State(KeyVirtualSize).(type) {
	case uint64:
		return v
	case int64:
		return uint64(max(v, 0))
	case int:
		return uint64(max(v, 0))
	case uint32:
		return uint64(v)
	case int32:
		return uint64(max(v, 0))
	case uint:
		return uint64(v)
	case float64:
		return uint64(max(v, 0))
	}
	return 0
}

func stringOf(a packersdk.Artifact, key string) string {
	s, _ := a.State(key).(string)
	return s
}
