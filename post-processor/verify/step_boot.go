package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	sdknet "github.com/hashicorp/packer-plugin-sdk/net"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepBoot defines the instance's domain and starts it, its serial console
// streamed into console.log in the run's folder (L12). With user-mode
// networking the guest's SSH and web ports are forwarded to free host
// ports. Cleanup destroys and undefines the domain, unless keep_on_failure
// keeps it.
type stepBoot struct {
	config  *Config
	dir     string // the run's folder, for the console log
	defined bool
	console *libvirt.Libvirt
	log     *os.File
}

func (s *stepBoot) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
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
	release := func() {}
	g := &guest{host: "127.0.0.1", sshPort: c.SSHPort, httpPort: c.HTTPPort}
	switch c.NetworkMode {
	case networkUser:
		host, listen := "127.0.0.1", "127.0.0.1"
		if !virt.OnThisMachine(c.LibvirtURI) {
			host, listen = virt.Host(c.LibvirtURI), "0.0.0.0"
		}
		g.host = host
		var forwards []virt.Forward
		var held []*sdknet.Listener
		defer func() {
			for _, l := range held {
				l.Close()
			}
		}()
		for _, p := range []*int{&g.sshPort, &g.httpPort} {
			// The port stays held until the domain starts, so that parallel
			// builds cannot take the same one.
			l, err := sdknet.ListenRangeConfig{Addr: "127.0.0.1", Min: c.HostPortMin, Max: c.HostPortMax, Network: "tcp"}.Listen(ctx)
			if err != nil {
				return halt(state, fmt.Errorf("host_port_min/host_port_max: no free port: %w", err))
			}
			held = append(held, l)
			forwards = append(forwards, virt.Forward{HostAddr: listen, HostPort: l.Port, GuestPort: *p})
			*p = l.Port
		}
		m.NIC.User = &virt.UserNet{Forwards: forwards}
		release = func() {
			for _, l := range held {
				l.Close()
			}
			held = nil
		}
		ui.Say(fmt.Sprintf("Forwarding %s:%d to the guest's SSH port, %s:%d to its web server", listen, g.sshPort, listen, g.httpPort))
	case networkLibvirt:
		m.NIC.Network = c.Network
	case networkBridge:
		m.NIC.Bridge = c.NetworkBridge
	}
	state.Put("guest", g)

	if err := virt.Remove(conn, c.VMName); err != nil {
		return halt(state, err)
	}
	ui.Say(fmt.Sprintf("Booting the image as instance %s (%s, %s, %d CPUs, %d MiB, %s, MAC %s)...",
		c.VMName, c.DomainType, m.MachineType, c.CPUs, c.Memory, c.Datasource, in.mac))
	dom, err := virt.Define(conn, m)
	if err != nil {
		return halt(state, err)
	}
	s.defined = true
	state.Put("domain", dom)
	release() // for QEMU's forwards to take the ports
	if _, err := conn.DomainCreateWithFlags(dom, uint32(libvirt.DomainStartPaused)); err != nil {
		return halt(state, fmt.Errorf("starting domain %s: %w", c.VMName, err))
	}
	logPath := filepath.Join(s.dir, "console.log")
	if s.log, err = os.Create(logPath); err != nil {
		return halt(state, err)
	}
	state.Put("console_log", logPath)
	// The console stream gets a connection of its own, so that it never
	// queues behind the other libvirt calls.
	if s.console, err = virt.Connect(c.LibvirtURI); err != nil {
		return halt(state, err)
	}
	go s.console.DomainOpenConsole(dom, nil, s.log, uint32(libvirt.DomainConsoleForce))
	if err := conn.DomainResume(dom); err != nil {
		return halt(state, fmt.Errorf("resuming domain %s: %w", c.VMName, err))
	}
	return multistep.ActionContinue
}

func (s *stepBoot) Cleanup(state multistep.StateBag) {
	if s.console != nil {
		s.console.Disconnect()
	}
	if s.log != nil {
		s.log.Close()
	}
	if !s.defined {
		return
	}
	ui := state.Get("ui").(packersdk.Ui)
	if keep(state, s.config) {
		ui.Say(fmt.Sprintf("keep_on_failure: domain %s is left running (virsh console %s; virsh destroy and undefine it, and delete its volumes, when done)", s.config.VMName, s.config.VMName))
		return
	}
	if err := virt.Remove(state.Get("libvirt").(*libvirt.Libvirt), s.config.VMName); err != nil {
		ui.Error(err.Error())
	}
}
