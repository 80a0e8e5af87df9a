package libvirt

import (
	"context"
	"fmt"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	sdknet "github.com/hashicorp/packer-plugin-sdk/net"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepDefineDomain defines the build's domain; cleanup destroys and
// undefines it. With user-mode networking it also reserves the host port
// forwarded to the communicator.
type stepDefineDomain struct {
	config  *Config
	defined bool
	port    *sdknet.Listener
}

func (s *stepDefineDomain) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	c := s.config

	m := s.machine(state)
	if c.NetworkMode == NetworkUser && c.Comm.Type != "none" {
		// The port stays held (a lock file and a listener) until the domain
		// starts, so parallel builds cannot take the same one.
		l, err := sdknet.ListenRangeConfig{Addr: "127.0.0.1", Min: c.HostPortMin, Max: c.HostPortMax, Network: "tcp"}.Listen(ctx)
		if err != nil {
			return halt(state, fmt.Errorf("host_port_min/host_port_max: no free port: %w", err))
		}
		s.port = l
		// On a remote host the forward listens on all of its addresses, as
		// the communicator comes from outside.
		host, listen := "127.0.0.1", "127.0.0.1"
		if !virt.OnThisMachine(c.LibvirtURI) {
			host, listen = virt.Host(c.LibvirtURI), "0.0.0.0"
		}
		state.Put("comm_listener", l)
		state.Put("comm_host", host)
		state.Put("comm_port", l.Port)
		m.NIC.User = &virt.UserNet{Forwards: []virt.Forward{{HostAddr: listen, HostPort: l.Port, GuestPort: c.Comm.Port()}}}
		ui.Say(fmt.Sprintf("Forwarding %s:%d to the guest's port %d", listen, l.Port, c.Comm.Port()))
	}

	// A domain left by an aborted build of the same name goes first.
	if err := virt.Remove(conn, c.VMName); err != nil {
		return halt(state, err)
	}
	ui.Say(fmt.Sprintf("Defining domain %s (%s, %s, %d CPUs, %d MiB)...", c.VMName, c.DomainType, c.MachineType, c.CPUs, c.Memory))
	dom, err := virt.Define(conn, m)
	if err != nil {
		return halt(state, err)
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
	case NetworkUser:
		m.NIC.User = &virt.UserNet{}
	case NetworkLibvirt:
		m.NIC.Network = c.Network
	case NetworkBridge:
		m.NIC.Bridge = c.NetworkBridge
	}
	return m
}

func (s *stepDefineDomain) Cleanup(state multistep.StateBag) {
	if s.port != nil {
		s.port.Close()
	}
	if !s.defined {
		return
	}
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	if err := virt.Remove(conn, s.config.VMName); err != nil {
		state.Get("ui").(packersdk.Ui).Error(err.Error())
	}
}
