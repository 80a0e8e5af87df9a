package libvirt

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepDefineDomain defines the build's domain in place of the placeholder
// step.Claim made; cleanup forces it off, before the volumes it uses go
// (step.Claim undefines it last). With user-mode networking it also reserves the host port
// forwarded to the communicator, which stepStartDomain releases for QEMU.
type stepDefineDomain struct {
	config   *Config
	defined  bool
	forwards *virt.Forwards
}

func (s *stepDefineDomain) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	owned := state.Get("owned").(*virt.Owned)
	c := s.config
	putData(state, "VMName", c.VMName)
	putData(state, "DomainType", c.DomainType)
	putData(state, "DiskFormat", c.DiskFormat)
	putData(state, "OutputDir", c.OutputDir)

	m := s.machine(state)
	if c.NetworkMode == virt.NetworkUser && c.Comm.Type != "none" {
		f, err := state.Get("driver").(virt.Driver).ReserveForwards(ctx, c.HostPortMin, c.HostPortMax, c.Comm.Port())
		if err != nil {
			return step.Halt(state, err)
		}
		s.forwards = f
		state.Put("forwards", f)
		state.Put("comm_host", f.Host)
		state.Put("comm_port", f.Ports[0])
		m.NIC.User = f.UserNet()
		ui.Say(fmt.Sprintf("Forwarding %s to the guest's port %d", f.Describe(0), c.Comm.Port()))
	}

	ui.Say(fmt.Sprintf("Defining domain %s (%s, %s, %d CPUs, %d MiB)...", c.VMName, c.DomainType, c.MachineType, c.CPUs, c.Memory))
	dom, err := owned.Define(m)
	if err != nil {
		return step.Halt(state, err)
	}
	s.defined = true
	state.Put("domain", dom)
	return multistep.ActionContinue
}

// machine turns the configuration and the staged files into a Machine.
func (s *stepDefineDomain) machine(state multistep.StateBag) virt.Machine {
	c := s.config
	disk := state.Get("disk_volume").(virt.Volume)
	m := virt.Machine{
		Name: c.VMName, DomainType: c.DomainType, MachineType: c.MachineType,
		MemoryMiB: uint(c.Memory), CPUs: uint(c.CPUs), CPUMode: c.CPUMode,
		Video:        c.Video,
		NoUSB:        true,
		NoBalloon:    true,
		ExtraDevices: c.devices,
		QEMUArgs:     c.QEMUArgs,
		// The disk boots first: empty, the firmware passes over it to the
		// ISO; installed, it boots the new system instead of the installer.
		Disks: []virt.Disk{{
			Path: disk.Path, Format: c.DiskFormat, Bus: c.DiskInterface,
			Cache: c.DiskCache, Discard: c.DiskDiscard, BootOrder: 1,
		}},
		NIC: &virt.NIC{Model: c.NetDevice},
	}
	if c.Firmware == "uefi" {
		m.EFI = &virt.EFI{Code: c.EFIFirmwareCode, Vars: c.EFIFirmwareVars, SecureBoot: c.SecureBoot}
	}
	if iso, ok := state.GetOk("iso_host_path"); ok {
		m.Disks = append(m.Disks, virt.Disk{Path: iso.(string), Device: "cdrom", Format: "raw", Bus: c.CDROMInterface, BootOrder: 2})
	}
	if cd, ok := state.GetOk("cd_host_path"); ok {
		m.Disks = append(m.Disks, virt.Disk{Path: cd.(string), Device: "cdrom", Format: "raw", Bus: c.CDROMInterface})
	}
	for i := range c.AdditionalISOFiles {
		_, key := additionalISOKey(i)
		m.Disks = append(m.Disks, virt.Disk{Path: state.Get(key).(string), Device: "cdrom", Format: "raw", Bus: c.CDROMInterface})
	}
	if fd, ok := state.GetOk("floppy_host_path"); ok {
		m.Disks = append(m.Disks, virt.Disk{Path: fd.(string), Device: "floppy", Format: "raw", Bus: "fdc"})
	}
	if !c.DisableVNC {
		m.VNC = &virt.VNC{Listen: c.VNCBindAddress, Password: c.VNCPassword}
	}
	switch c.NetworkMode {
	case virt.NetworkUser:
		m.NIC.User = &virt.UserNet{}
	case virt.NetworkLibvirt:
		m.NIC.Network = c.Network
	case virt.NetworkBridge:
		m.NIC.Bridge = c.NetworkBridge
	}
	return m
}

func (s *stepDefineDomain) Cleanup(state multistep.StateBag) {
	if s.forwards != nil {
		s.forwards.Close()
	}
	if !s.defined {
		return
	}
	d := state.Get("driver").(virt.Driver)
	if err := d.Destroy(state.Get("domain").(virt.Domain)); err != nil {
		state.Get("ui").(packersdk.Ui).Error(err.Error())
	}
}
