//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"slices"

	"libvirt.org/go/libvirtxml"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/field"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// QEMU's limits for an x86_64 guest: 1024 vCPUs (q35 with x2APIC), 16 TiB.
const (
	maxCPUs      = 1024
	maxMemoryMiB = 16 << 20
)

// DomainConfig describes the libvirt domain (the virtual machine).
type DomainConfig struct {
	// The name of the domain and of the output disk. Defaults to
	// `packer-<build name>`. Two builds on one host need distinct names.
	VMName string `mapstructure:"vm_name"`
	// The libvirt domain type: `kvm` (the default), `qemu` (software
	// emulation, for hosts without usable KVM), or `auto`: kvm when libvirt
	// offers it and, on a local host, a probe boots the host's kernel under
	// KVM (where nested KVM is broken it does not); qemu otherwise.
	DomainType string `mapstructure:"domain_type"`
	// The QEMU machine type: `pc` (the default, i440FX) or `q35`, or a
	// versioned name such as `pc-q35-7.2`.
	MachineType string `mapstructure:"machine_type"`
	// `bios` (the default) or `uefi`.
	Firmware string `mapstructure:"firmware"`
	// With `firmware = "uefi"`: the UEFI code file on the libvirt host.
	// Unset, libvirt picks a firmware from its descriptors.
	EFIFirmwareCode string `mapstructure:"efi_firmware_code"`
	// With `firmware = "uefi"`: the UEFI variables template on the libvirt
	// host, copied into the domain's NVRAM.
	EFIFirmwareVars string `mapstructure:"efi_firmware_vars"`
	// With `firmware = "uefi"`: boot with Secure Boot enforced (needs
	// `machine_type = "q35"`).
	SecureBoot bool `mapstructure:"secure_boot"`
	// libvirt's CPU mode: `host-passthrough` (the default with kvm),
	// `host-model`, `maximum`, or `custom` (QEMU's default model, the
	// default with qemu).
	CPUMode string `mapstructure:"cpu_mode"`
	// Number of virtual CPUs. Defaults to 1.
	CPUs int `mapstructure:"cpus"`
	// Memory in MiB. Defaults to 1024.
	Memory int `mapstructure:"memory"`
	// NIC model: `virtio` (the default), `e1000`, `e1000e` or `rtl8139`.
	NetDevice string `mapstructure:"net_device"`
	// Display adapter: `vga` (the default), `virtio`, `qxl`, `cirrus`,
	// `bochs` or `none`.
	Video string `mapstructure:"video"`
	// Extra devices, as libvirt domain XML: the inside of a `<devices>`
	// element, added to the domain as they are. An escape hatch for what the
	// options above do not cover (a TPM, a watchdog, a second NIC). The
	// domain has no USB controller and no memory balloon, as the QEMU
	// builder's have none: a USB device here (a `usb` tablet, say) brings
	// libvirt's USB controller back, and a `<memballoon>` here is used.
	DevicesXML string `mapstructure:"devices_xml"`
	// Extra arguments for QEMU's command line, one list element per
	// argument (`["-device", "virtio-rng-pci"]`).
	QEMUArgs []string `mapstructure:"qemu_args"`

	devices *libvirtxml.DomainDeviceList
}

var (
	firmwares  = []string{"bios", "uefi"}
	cpuModes   = []string{"host-passthrough", "host-model", "maximum", "custom"}
	netDevices = []string{"virtio", "e1000", "e1000e", "rtl8139"}
	videos     = []string{"vga", "virtio", "qxl", "cirrus", "bochs", "none"}
)

func (c *DomainConfig) prepare(buildName string) []error {
	var errs []error
	c.VMName = cmp.Or(c.VMName, "packer-"+buildName)
	errs = append(errs, virt.CheckDomainName("vm_name", c.VMName))
	c.DomainType = cmp.Or(c.DomainType, "kvm")
	errs = append(errs, field.OneOf("domain_type", c.DomainType, virt.DomainTypes))
	c.MachineType = cmp.Or(c.MachineType, "pc")
	errs = append(errs, virt.CheckMachineType("machine_type", c.MachineType))
	c.Firmware = cmp.Or(c.Firmware, "bios")
	errs = append(errs, field.OneOf("firmware", c.Firmware, firmwares))
	if c.Firmware != "uefi" && (c.EFIFirmwareCode != "" || c.EFIFirmwareVars != "" || c.SecureBoot) {
		errs = append(errs, errors.New(`efi_firmware_code/efi_firmware_vars/secure_boot: need firmware = "uefi"`))
	}
	if c.SecureBoot && !virt.IsQ35(c.MachineType) {
		errs = append(errs, errors.New(`secure_boot: needs machine_type = "q35" (SMM)`))
	}
	if c.EFIFirmwareVars != "" && c.EFIFirmwareCode == "" {
		errs = append(errs, errors.New("efi_firmware_vars: needs efi_firmware_code"))
	}
	if c.CPUMode != "" {
		errs = append(errs, field.OneOf("cpu_mode", c.CPUMode, cpuModes))
	}
	if err := c.fitsDomainType(c.DomainType); err != nil {
		errs = append(errs, err)
	}
	// Signed, so that -1 is an error here rather than a huge unsigned value.
	c.CPUs = cmp.Or(c.CPUs, 1)
	if c.CPUs < 1 || c.CPUs > maxCPUs {
		errs = append(errs, fmt.Errorf("cpus %d: between 1 and %d", c.CPUs, maxCPUs))
	}
	c.Memory = cmp.Or(c.Memory, 1024)
	if c.Memory < 128 || c.Memory > maxMemoryMiB {
		errs = append(errs, fmt.Errorf("memory %d: between 128 and %d (MiB)", c.Memory, maxMemoryMiB))
	}
	c.NetDevice = cmp.Or(c.NetDevice, "virtio")
	errs = append(errs, field.OneOf("net_device", c.NetDevice, netDevices))
	c.Video = cmp.Or(c.Video, "vga")
	errs = append(errs, field.OneOf("video", c.Video, videos))
	if c.DevicesXML != "" {
		var list libvirtxml.DomainDeviceList
		if err := xml.Unmarshal([]byte("<devices>"+c.DevicesXML+"</devices>"), &list); err != nil {
			errs = append(errs, fmt.Errorf("devices_xml: not libvirt device XML: %w", err))
		}
		c.devices = &list
	}
	return compact(errs)
}

// checkLocalFiles reports firmware files missing on a local libvirt host.
// (A remote host's files cannot be seen from here.)
func (c *DomainConfig) checkLocalFiles() []error {
	var errs []error
	for field, path := range map[string]string{"efi_firmware_code": c.EFIFirmwareCode, "efi_firmware_vars": c.EFIFirmwareVars} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return errs
}

// fitsDomainType fails settings the domain type cannot run: Prepare asks
// it of the configured type, the build of the one domain_type "auto"
// settles to.
func (c *DomainConfig) fitsDomainType(domainType string) error {
	if c.CPUMode == "host-passthrough" && domainType == "qemu" {
		return errors.New(`cpu_mode "host-passthrough": needs domain_type "kvm"; software emulation has no host CPU to pass through (use "maximum")`)
	}
	return nil
}
