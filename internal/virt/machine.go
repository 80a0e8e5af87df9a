package virt

import (
	"fmt"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// Machine describes a domain to define. It holds what the builder and the
// verify post-processor choose; XML turns it into libvirt's domain XML.
type Machine struct {
	Name        string
	DomainType  string // kvm or qemu
	MachineType string // pc, q35, or empty for the hypervisor's default
	MemoryMiB   uint
	CPUs        uint
	Disks       []Disk
	// VNC, when set, adds a VNC display with an automatic port.
	VNC *VNC
	// SerialLog, when set, is the host file the serial console is written to.
	SerialLog string
	// UserNet, when set, gives the guest a virtio NIC on QEMU user-mode
	// networking (slirp), with host ports forwarded to guest ports.
	UserNet *UserNet
}

// Disk is a disk or CD-ROM of a Machine.
type Disk struct {
	Path   string
	Format string // qcow2, raw
	Device string // disk (the default) or cdrom
	Bus    string // virtio (the default), scsi, sata, ide
	// BootOrder is the disk's place in the boot order, from 1; 0 = not
	// bootable.
	BootOrder uint
}

// VNC is a VNC display.
type VNC struct {
	Listen   string // address; 127.0.0.1 when empty
	Password string
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

// XML returns the domain XML for m.
func (m Machine) XML() (string, error) {
	dom := libvirtxml.Domain{
		Type:   m.DomainType,
		Name:   m.Name,
		Memory: &libvirtxml.DomainMemory{Value: m.MemoryMiB, Unit: "MiB"},
		VCPU:   &libvirtxml.DomainVCPU{Value: max(m.CPUs, 1)},
		OS: &libvirtxml.DomainOS{
			Type: &libvirtxml.DomainOSType{Arch: "x86_64", Machine: m.MachineType, Type: "hvm"},
		},
		Features:   &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices:    &libvirtxml.DomainDeviceList{},
	}
	if m.DomainType == "kvm" {
		dom.CPU = &libvirtxml.DomainCPU{Mode: "host-passthrough"}
	}
	names := map[string]int{}
	for _, d := range m.Disks {
		disk, err := d.xml(names)
		if err != nil {
			return "", err
		}
		dom.Devices.Disks = append(dom.Devices.Disks, disk)
	}
	if m.VNC != nil {
		listen := m.VNC.Listen
		if listen == "" {
			listen = "127.0.0.1"
		}
		dom.Devices.Graphics = append(dom.Devices.Graphics, libvirtxml.DomainGraphic{
			VNC: &libvirtxml.DomainGraphicVNC{
				Port: -1, AutoPort: "yes", Passwd: m.VNC.Password,
				Listeners: []libvirtxml.DomainGraphicListener{{Address: &libvirtxml.DomainGraphicListenerAddress{Address: listen}}},
			},
		})
		dom.Devices.Videos = append(dom.Devices.Videos, libvirtxml.DomainVideo{Model: libvirtxml.DomainVideoModel{Type: "vga"}})
	}
	if m.SerialLog != "" {
		port := uint(0)
		dom.Devices.Serials = append(dom.Devices.Serials, libvirtxml.DomainSerial{
			Source: &libvirtxml.DomainChardevSource{File: &libvirtxml.DomainChardevSourceFile{Path: m.SerialLog, Append: "off"}},
			Target: &libvirtxml.DomainSerialTarget{Port: &port},
		})
	}
	if m.UserNet != nil {
		// libvirt 9 has no user-mode NIC with port forwards, so the NIC goes
		// on QEMU's own command line, in a PCI slot libvirt does not assign
		// (it fills slots from 2 upwards).
		netdev := "user,id=usernet0"
		for _, f := range m.UserNet.Forwards {
			netdev += fmt.Sprintf(",hostfwd=tcp:%s:%d-:%d", f.HostAddr, f.HostPort, f.GuestPort)
		}
		dom.QEMUCommandline = &libvirtxml.DomainQEMUCommandline{Args: []libvirtxml.DomainQEMUCommandlineArg{
			{Value: "-netdev"}, {Value: netdev},
			{Value: "-device"}, {Value: "virtio-net-pci,netdev=usernet0,bus=" + rootBus(m.MachineType) + ",addr=0x10"},
		}}
	}
	return dom.Marshal()
}

// rootBus is the name QEMU gives the root PCI bus of a machine type.
func rootBus(machineType string) string {
	if strings.HasPrefix(machineType, "q35") || strings.Contains(machineType, "-q35") {
		return "pcie.0"
	}
	return "pci.0"
}

// targetPrefix is the device name prefix libvirt expects for each bus.
var targetPrefix = map[string]string{"virtio": "vd", "scsi": "sd", "sata": "sd", "ide": "hd"}

func (d Disk) xml(used map[string]int) (libvirtxml.DomainDisk, error) {
	bus := d.Bus
	if bus == "" {
		bus = "virtio"
	}
	prefix, ok := targetPrefix[bus]
	if !ok {
		return libvirtxml.DomainDisk{}, fmt.Errorf("disk bus %q is not one of virtio, scsi, sata, ide", bus)
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
		format = formatOf(d.Path)
	}
	disk := libvirtxml.DomainDisk{
		Device: device,
		Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: format},
		Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: d.Path}},
		Target: &libvirtxml.DomainDiskTarget{Dev: dev, Bus: bus},
	}
	if device == "cdrom" {
		disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
	} else {
		// Zeros the guest writes (an installer writing a whole disk) stay
		// unallocated in the image.
		disk.Driver.Discard = "unmap"
		disk.Driver.DetectZeros = "unmap"
	}
	if d.BootOrder > 0 {
		disk.Boot = &libvirtxml.DomainDeviceBoot{Order: d.BootOrder}
	}
	return disk, nil
}

func formatOf(path string) string {
	switch {
	case strings.HasSuffix(path, ".qcow2"):
		return "qcow2"
	default:
		return "raw"
	}
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
