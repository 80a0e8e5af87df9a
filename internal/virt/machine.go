package virt

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// Machine describes a domain to define. It holds what the builder and the
// verify post-processor choose; XML turns it into libvirt's domain XML.
type Machine struct {
	Name string
	// UUID, when set, names the domain this definition replaces.
	UUID libvirt.UUID
	// Mark is the plugin's mark, written into the domain's <metadata>.
	Mark        *Mark
	DomainType  string // kvm or qemu
	MachineType string // pc, q35, or empty for the hypervisor's default
	MemoryMiB   uint
	CPUs        uint
	// CPUMode is libvirt's CPU mode; empty = host-passthrough with kvm and
	// QEMU's default model with qemu.
	CPUMode string
	// EFI, when set, boots UEFI firmware instead of the BIOS.
	EFI   *EFI
	Disks []Disk
	// Video is the display adapter model; empty = vga, "none" = none.
	Video string
	// NoUSB and NoBalloon leave out the USB controller and the memory
	// balloon that libvirt adds by default (the QEMU builder's guests have
	// neither): a build guest uses neither, and an installer that loads
	// the USB host driver keeps QEMU's UHCI frame timer running. A USB
	// device or controller, or a balloon, in ExtraDevices still wins.
	NoUSB, NoBalloon bool
	// VNC, when set, adds a VNC display with an automatic port.
	VNC *VNC
	// SerialLog, when set, is the host file the serial console is written
	// to. Otherwise the serial console is a pty, which a client reads with
	// virDomainOpenConsole.
	SerialLog string
	// NIC is the network interface; nil = none.
	NIC *NIC
	// ExtraDevices are added to the devices the fields above make.
	ExtraDevices *libvirtxml.DomainDeviceList
	// QEMUArgs are added to QEMU's command line.
	QEMUArgs []string
}

// EFI is UEFI firmware. With Code empty libvirt picks a firmware from its
// descriptors.
type EFI struct {
	Code, Vars string
	SecureBoot bool
}

// Disk is a disk or CD-ROM of a Machine.
type Disk struct {
	Path   string
	Format string // qcow2, raw: required, as a format is never guessed
	Device string // disk (the default), cdrom or floppy
	Bus    string // virtio (the default), virtio-scsi, scsi, sata, ide, fdc
	Cache  string // QEMU cache mode; empty = the hypervisor's default
	// Discard is unmap (the default) or ignore.
	Discard string
	// BootOrder is the disk's place in the boot order, from 1; 0 = not
	// bootable.
	BootOrder uint
}

// VNC is a VNC display.
type VNC struct {
	Listen   string // address; 127.0.0.1 when empty
	Password string
}

// NIC is a network interface: on QEMU user-mode networking (User), on a
// libvirt network (Network), or on a host bridge (Bridge).
type NIC struct {
	Model   string // virtio (the default), e1000, e1000e, rtl8139
	User    *UserNet
	Network string
	Bridge  string
	MAC     string
}

// UserNet is QEMU user-mode networking with port forwards.
type UserNet struct {
	Forwards []Forward
}

// Forward forwards HostAddr:HostPort to the guest's GuestPort (TCP).
type Forward struct {
	HostAddr  string
	HostPort  int
	GuestPort int
}

// Arch is the guests' architecture, as libvirt, Nova and Glance name it:
// the only one this plugin builds today.
const Arch = "x86_64"

// XML returns the domain XML for m.
func (m Machine) XML() (string, error) {
	dom := libvirtxml.Domain{
		Type:   m.DomainType,
		Name:   m.Name,
		Memory: &libvirtxml.DomainMemory{Value: m.MemoryMiB, Unit: "MiB"},
		VCPU:   &libvirtxml.DomainVCPU{Value: max(m.CPUs, 1)},
		OS: &libvirtxml.DomainOS{
			Type: &libvirtxml.DomainOSType{Arch: Arch, Machine: m.MachineType, Type: "hvm"},
		},
		Features:   &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices:    &libvirtxml.DomainDeviceList{},
	}
	if m.UUID != (libvirt.UUID{}) {
		dom.UUID = FormatUUID(m.UUID)
	}
	if m.Mark != nil {
		x, err := m.Mark.xml()
		if err != nil {
			return "", err
		}
		dom.Metadata = &libvirtxml.DomainMetadata{XML: x}
	}
	cpuMode := m.CPUMode
	if cpuMode == "" && m.DomainType == "kvm" {
		cpuMode = "host-passthrough"
	}
	if cpuMode != "" && cpuMode != "custom" {
		dom.CPU = &libvirtxml.DomainCPU{Mode: cpuMode}
	}
	m.addFirmware(&dom)
	if err := m.addDisks(dom.Devices); err != nil {
		return "", err
	}
	m.addDisplay(dom.Devices)
	m.addSerial(dom.Devices)
	m.addNIC(&dom)
	if m.NoBalloon {
		dom.Devices.MemBalloon = &libvirtxml.DomainMemBalloon{Model: "none"}
	}
	if m.ExtraDevices != nil {
		appendDevices(dom.Devices, m.ExtraDevices)
	}
	if m.NoUSB && !usesUSB(dom.Devices) {
		dom.Devices.Controllers = append(dom.Devices.Controllers, libvirtxml.DomainController{Type: "usb", Model: "none"})
	}
	if len(m.QEMUArgs) > 0 {
		if dom.QEMUCommandline == nil {
			dom.QEMUCommandline = &libvirtxml.DomainQEMUCommandline{}
		}
		for _, a := range m.QEMUArgs {
			dom.QEMUCommandline.Args = append(dom.QEMUCommandline.Args, libvirtxml.DomainQEMUCommandlineArg{Value: a})
		}
	}
	return dom.Marshal()
}

func (m Machine) addFirmware(dom *libvirtxml.Domain) {
	if m.EFI == nil {
		return
	}
	if m.EFI.SecureBoot {
		dom.Features.SMM = &libvirtxml.DomainFeatureSMM{State: "on"}
	}
	if m.EFI.Code == "" {
		dom.OS.Firmware = "efi"
		if m.EFI.SecureBoot {
			dom.OS.FirmwareInfo = &libvirtxml.DomainOSFirmwareInfo{Features: []libvirtxml.DomainOSFirmwareFeature{
				{Enabled: "yes", Name: "secure-boot"}, {Enabled: "yes", Name: "enrolled-keys"},
			}}
		}
		return
	}
	secure := ""
	if m.EFI.SecureBoot {
		secure = "yes"
	}
	dom.OS.Loader = &libvirtxml.DomainLoader{Path: m.EFI.Code, Readonly: "yes", Type: "pflash", Secure: secure}
	if m.EFI.Vars != "" {
		dom.OS.NVRam = &libvirtxml.DomainNVRam{Template: m.EFI.Vars}
	}
}

func (m Machine) addDisks(devs *libvirtxml.DomainDeviceList) error {
	names := map[string]int{}
	scsi := false
	for _, d := range m.Disks {
		disk, err := d.xml(names)
		if err != nil {
			return err
		}
		scsi = scsi || disk.Target.Bus == "scsi"
		devs.Disks = append(devs.Disks, disk)
	}
	if scsi {
		// One virtio-scsi controller serves every scsi disk and CD.
		devs.Controllers = append(devs.Controllers, libvirtxml.DomainController{Type: "scsi", Model: "virtio-scsi"})
	}
	return nil
}

func (m Machine) addDisplay(devs *libvirtxml.DomainDeviceList) {
	// A display adapter unless asked for none: the Debian fixture, for one,
	// never brings its network up on a machine without one.
	switch m.Video {
	case "none":
	case "":
		devs.Videos = append(devs.Videos, libvirtxml.DomainVideo{Model: libvirtxml.DomainVideoModel{Type: "vga"}})
	default:
		devs.Videos = append(devs.Videos, libvirtxml.DomainVideo{Model: libvirtxml.DomainVideoModel{Type: m.Video}})
	}
	if m.VNC == nil {
		return
	}
	listen := m.VNC.Listen
	if listen == "" {
		listen = "127.0.0.1"
	}
	devs.Graphics = append(devs.Graphics, libvirtxml.DomainGraphic{
		VNC: &libvirtxml.DomainGraphicVNC{
			Port: -1, AutoPort: "yes", Passwd: m.VNC.Password,
			Listeners: []libvirtxml.DomainGraphicListener{{Address: &libvirtxml.DomainGraphicListenerAddress{Address: listen}}},
		},
	})
}

func (m Machine) addSerial(devs *libvirtxml.DomainDeviceList) {
	port := uint(0)
	serial := libvirtxml.DomainSerial{Target: &libvirtxml.DomainSerialTarget{Port: &port}}
	if m.SerialLog != "" {
		serial.Source = &libvirtxml.DomainChardevSource{File: &libvirtxml.DomainChardevSourceFile{Path: m.SerialLog, Append: "off"}}
	} else {
		serial.Source = &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}}
	}
	devs.Serials = append(devs.Serials, serial)
	// The console is serial 0 again, as libvirt's schema wants it spelt:
	// with the serial's source.
	devs.Consoles = append(devs.Consoles, libvirtxml.DomainConsole{
		Source: serial.Source, Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: &port},
	})
	// The QEMU guest agent's channel: with an agent in the guest, libvirt
	// learns the guest's addresses from it (network_mode = "bridge").
	devs.Channels = append(devs.Channels, libvirtxml.DomainChannel{
		Source: &libvirtxml.DomainChardevSource{UNIX: &libvirtxml.DomainChardevSourceUNIX{Mode: "bind"}},
		Target: &libvirtxml.DomainChannelTarget{VirtIO: &libvirtxml.DomainChannelTargetVirtIO{Name: "org.qemu.guest_agent.0"}},
	})
}

func (m Machine) addNIC(dom *libvirtxml.Domain) {
	n := m.NIC
	if n == nil {
		return
	}
	model := n.Model
	if model == "" {
		model = "virtio"
	}
	if n.User != nil {
		// libvirt 9 has no user-mode NIC with port forwards, so the NIC goes
		// on QEMU's own command line, in a PCI slot libvirt does not assign
		// (it fills slots from 2 upwards).
		netdev := "user,id=usernet0"
		for _, f := range n.User.Forwards {
			netdev += fmt.Sprintf(",hostfwd=tcp:%s:%d-:%d", f.HostAddr, f.HostPort, f.GuestPort)
		}
		device := qemuNICModel[model] + ",netdev=usernet0,bus=" + rootBus(m.MachineType) + ",addr=0x10"
		if n.MAC != "" {
			device += ",mac=" + n.MAC
		}
		dom.QEMUCommandline = &libvirtxml.DomainQEMUCommandline{Args: []libvirtxml.DomainQEMUCommandlineArg{
			{Value: "-netdev"}, {Value: netdev}, {Value: "-device"}, {Value: device},
		}}
		return
	}
	iface := libvirtxml.DomainInterface{Model: &libvirtxml.DomainInterfaceModel{Type: model}}
	if n.MAC != "" {
		iface.MAC = &libvirtxml.DomainInterfaceMAC{Address: n.MAC}
	}
	if n.Bridge != "" {
		iface.Source = &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: n.Bridge}}
	} else {
		iface.Source = &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: n.Network}}
	}
	dom.Devices.Interfaces = append(dom.Devices.Interfaces, iface)
}

// qemuNICModel maps libvirt NIC models to QEMU device names.
var qemuNICModel = map[string]string{"virtio": "virtio-net-pci", "e1000": "e1000", "e1000e": "e1000e", "rtl8139": "rtl8139"}

// appendDevices adds the devices of extra to devs. A <video> among them
// replaces the default adapter rather than adding a second, primary one;
// the single-valued devices of extra (memballoon, nvram...) win.
func appendDevices(devs, extra *libvirtxml.DomainDeviceList) {
	if extra.Emulator != "" {
		devs.Emulator = extra.Emulator
	}
	if len(extra.Videos) > 0 {
		devs.Videos = nil
	}
	// An extra channel of the same name (the guest agent's) replaces ours.
	devs.Channels = slices.DeleteFunc(devs.Channels, func(c libvirtxml.DomainChannel) bool {
		return slices.ContainsFunc(extra.Channels, func(e libvirtxml.DomainChannel) bool {
			return channelName(e) != "" && channelName(e) == channelName(c)
		})
	})
	devs.Disks = append(devs.Disks, extra.Disks...)
	devs.Controllers = append(devs.Controllers, extra.Controllers...)
	devs.Leases = append(devs.Leases, extra.Leases...)
	devs.Filesystems = append(devs.Filesystems, extra.Filesystems...)
	devs.Interfaces = append(devs.Interfaces, extra.Interfaces...)
	devs.Smartcards = append(devs.Smartcards, extra.Smartcards...)
	devs.Serials = append(devs.Serials, extra.Serials...)
	devs.Parallels = append(devs.Parallels, extra.Parallels...)
	devs.Consoles = append(devs.Consoles, extra.Consoles...)
	devs.Channels = append(devs.Channels, extra.Channels...)
	devs.Inputs = append(devs.Inputs, extra.Inputs...)
	devs.TPMs = append(devs.TPMs, extra.TPMs...)
	devs.Graphics = append(devs.Graphics, extra.Graphics...)
	devs.Sounds = append(devs.Sounds, extra.Sounds...)
	devs.Audios = append(devs.Audios, extra.Audios...)
	devs.Videos = append(devs.Videos, extra.Videos...)
	devs.Hostdevs = append(devs.Hostdevs, extra.Hostdevs...)
	devs.RedirDevs = append(devs.RedirDevs, extra.RedirDevs...)
	devs.RedirFilters = append(devs.RedirFilters, extra.RedirFilters...)
	devs.Hubs = append(devs.Hubs, extra.Hubs...)
	devs.Watchdogs = append(devs.Watchdogs, extra.Watchdogs...)
	devs.MemBalloon = firstNonNil(extra.MemBalloon, devs.MemBalloon)
	devs.RNGs = append(devs.RNGs, extra.RNGs...)
	devs.NVRAM = firstNonNil(extra.NVRAM, devs.NVRAM)
	devs.Panics = append(devs.Panics, extra.Panics...)
	devs.Shmems = append(devs.Shmems, extra.Shmems...)
	devs.Memorydevs = append(devs.Memorydevs, extra.Memorydevs...)
	devs.IOMMU = firstNonNil(extra.IOMMU, devs.IOMMU)
	devs.VSock = firstNonNil(extra.VSock, devs.VSock)
	devs.Crypto = append(devs.Crypto, extra.Crypto...)
	devs.PStore = firstNonNil(extra.PStore, devs.PStore)
}

// usesUSB reports whether devs hold a USB controller or a device on the
// USB bus, which need libvirt's USB controller.
func usesUSB(devs *libvirtxml.DomainDeviceList) bool {
	return slices.ContainsFunc(devs.Controllers, func(c libvirtxml.DomainController) bool { return c.Type == "usb" }) ||
		slices.ContainsFunc(devs.Inputs, func(i libvirtxml.DomainInput) bool { return i.Bus == "usb" }) ||
		slices.ContainsFunc(devs.Disks, func(d libvirtxml.DomainDisk) bool { return d.Target != nil && d.Target.Bus == "usb" }) ||
		slices.ContainsFunc(devs.Hostdevs, func(h libvirtxml.DomainHostdev) bool { return h.SubsysUSB != nil }) ||
		len(devs.RedirDevs) > 0 || len(devs.Hubs) > 0 || len(devs.Smartcards) > 0
}

func channelName(c libvirtxml.DomainChannel) string {
	if c.Target == nil || c.Target.VirtIO == nil {
		return ""
	}
	return c.Target.VirtIO.Name
}

func firstNonNil[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// rootBus is the name QEMU gives the root PCI bus of a machine type.
func rootBus(machineType string) string {
	if IsQ35(machineType) {
		return "pcie.0"
	}
	return "pci.0"
}

// targetPrefix is the device name prefix libvirt expects for each bus.
var targetPrefix = map[string]string{"virtio": "vd", "scsi": "sd", "sata": "sd", "ide": "hd", "fdc": "fd"}

func (d Disk) xml(used map[string]int) (libvirtxml.DomainDisk, error) {
	bus := d.Bus
	switch bus {
	case "":
		bus = "virtio"
	case "virtio-scsi":
		bus = "scsi"
	}
	prefix, ok := targetPrefix[bus]
	if !ok {
		return libvirtxml.DomainDisk{}, fmt.Errorf("disk bus %q is not one of virtio, virtio-scsi, scsi, sata, ide, fdc", d.Bus)
	}
	device := d.Device
	if device == "" {
		device = "disk"
	}
	if device == "cdrom" && bus == "virtio" {
		return libvirtxml.DomainDisk{}, fmt.Errorf("a cdrom cannot be on the virtio bus: use sata, ide or scsi")
	}
	// sd* names are shared by the scsi and sata buses.
	dev := prefix + string(rune('a'+used[prefix]))
	used[prefix]++
	format := d.Format
	if format == "" {
		return libvirtxml.DomainDisk{}, fmt.Errorf("disk %s has no format: QEMU is never left to guess one", d.Path)
	}
	disk := libvirtxml.DomainDisk{
		Device: device,
		Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: format, Cache: d.Cache},
		Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: d.Path}},
		Target: &libvirtxml.DomainDiskTarget{Dev: dev, Bus: bus},
	}
	if device == "disk" {
		// Zeros the guest writes (an installer writing a whole disk) stay
		// unallocated in the image.
		disk.Driver.Discard = d.Discard
		if disk.Driver.Discard == "" {
			disk.Driver.Discard = "unmap"
		}
		disk.Driver.DetectZeros = "on"
		if disk.Driver.Discard == "unmap" {
			disk.Driver.DetectZeros = "unmap"
		}
	} else {
		disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
	}
	if d.BootOrder > 0 {
		disk.Boot = &libvirtxml.DomainDeviceBoot{Order: d.BootOrder}
	}
	return disk, nil
}

// VNCPort reads the VNC port libvirt chose for a running domain's XML.
func VNCPort(domainXML string) (int, error) {
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(domainXML); err != nil {
		return 0, err
	}
	if dom.Devices != nil {
		for _, g := range dom.Devices.Graphics {
			if g.VNC != nil && g.VNC.Port > 0 {
				return g.VNC.Port, nil
			}
		}
	}
	return 0, fmt.Errorf("the domain has no VNC display with a port (is it running?): %s", strconv.Quote(dom.Name))
}

// FormatUUID writes a domain UUID as libvirt does.
func FormatUUID(u libvirt.UUID) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
