package verify

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepDefine defines the instance's domain: its disk, the config drive and
// a NIC with the instance's MAC. With user-mode networking the guest's SSH
// and web server ports are forwarded to free host ports, held until
// stepStart. Cleanup forces the domain off (step.Claim undefines it
// last), unless keep_on_failure keeps it running.
type stepDefine struct {
	config   *Config
	defined  bool
	forwards *virt.Forwards
}

func (s *stepDefine) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	owned := state.Get("owned").(*virt.Owned)
	in := state.Get("instance").(*instance)
	c := s.config

	m := virt.Machine{
		Name: c.VMName, DomainType: c.DomainType, MachineType: c.MachineType,
		MemoryMiB: uint(c.Memory), CPUs: uint(c.CPUs),
		Disks: []virt.Disk{
			{Path: state.Get("disk").(virt.Volume).Path, Format: "qcow2", Bus: c.DiskInterface, BootOrder: 1},
			{Path: state.Get("config_drive").(string), Format: "raw", Device: "cdrom", Bus: c.CDROMInterface},
		},
		NIC: &virt.NIC{Model: c.NetDevice, MAC: in.mac},
	}
	if c.Firmware == "uefi" {
		m.EFI = &virt.EFI{}
	}
	g := &guest{host: "127.0.0.1", sshPort: c.SSHPort, httpPort: c.HTTPPort}
	switch c.NetworkMode {
	case virt.NetworkUser:
		f, err := state.Get("driver").(virt.Driver).ReserveForwards(ctx, c.HostPortMin, c.HostPortMax, c.SSHPort, c.HTTPPort)
		if err != nil {
			return step.Halt(state, err)
		}
		s.forwards = f
		state.Put("forwards", f)
		g.host, g.sshPort, g.httpPort = f.Host, f.Ports[0], f.Ports[1]
		m.NIC.User = f.UserNet()
		ui.Say(fmt.Sprintf("Forwarding %s to the guest's SSH port, %s to its web server", f.Describe(0), f.Describe(1)))
	case virt.NetworkLibvirt:
		m.NIC.Network = c.Network
	case virt.NetworkBridge:
		m.NIC.Bridge = c.NetworkBridge
	}
	state.Put("guest", g)

	ui.Say(fmt.Sprintf("Booting the image as instance %s (%s, %s, %d CPUs, %d MiB, %s, MAC %s)...",
		c.VMName, c.DomainType, m.MachineType, c.CPUs, c.Memory, c.Datasource, in.mac))
	dom, err := owned.Define(m)
	if err != nil {
		return step.Halt(state, err)
	}
	s.defined = true
	state.Put("domain", dom)
	return multistep.ActionContinue
}

func (s *stepDefine) Cleanup(state multistep.StateBag) {
	if s.forwards != nil {
		s.forwards.Close()
	}
	if !s.defined {
		return
	}
	ui := state.Get("ui").(packersdk.Ui)
	if keep(state, s.config) {
		ui.Say(fmt.Sprintf("keep_on_failure: domain %s is left running (virsh console %s); when done, run again with -force, which removes it and its volumes, or remove them yourself", s.config.VMName, s.config.VMName))
		return
	}
	if err := state.Get("driver").(virt.Driver).Destroy(state.Get("domain").(virt.Domain)); err != nil {
		ui.Error(err.Error())
	}
}
