package libvirt

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

// stepStartDomain starts the domain paused, attaches the serial console to
// <output_directory>/console.log, and lets it run, so the log holds the
// first line the firmware prints. The domain itself is destroyed by
// stepDefineDomain's cleanup.
type stepStartDomain struct {
	config  *Config
	console *libvirt.Libvirt
	log     *os.File
	watch   *virt.StopWatch
}

func (s *stepStartDomain) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	dom := state.Get("domain").(libvirt.Domain)
	c := s.config

	// Release the reserved port for QEMU's forward to take.
	if l, ok := state.GetOk("comm_listener"); ok {
		l.(*sdknet.Listener).Close()
	}
	ui.Say("Starting the domain...")
	if _, err := conn.DomainCreateWithFlags(dom, uint32(libvirt.DomainStartPaused)); err != nil {
		return halt(state, fmt.Errorf("starting domain %s: %w", c.VMName, err))
	}
	watch, err := virt.WatchStop(conn, dom)
	if err != nil {
		return halt(state, fmt.Errorf("watching domain %s: %w", c.VMName, err))
	}
	s.watch = watch
	state.Put("stop_watch", watch)

	logPath := filepath.Join(c.OutputDir, "console.log")
	if s.log, err = os.Create(logPath); err != nil {
		return halt(state, err)
	}
	state.Put("console_log", logPath)
	putData(state, "ConsoleLog", logPath)
	// The console stream gets a connection of its own, so that it never
	// queues behind the build's other libvirt calls.
	if s.console, err = virt.Connect(c.LibvirtURI); err != nil {
		return halt(state, err)
	}
	go s.console.DomainOpenConsole(dom, nil, s.log, uint32(libvirt.DomainConsoleForce))

	if err := conn.DomainResume(dom); err != nil {
		return halt(state, fmt.Errorf("resuming domain %s: %w", c.VMName, err))
	}
	if !c.DisableVNC {
		x, err := conn.DomainGetXMLDesc(dom, 0)
		if err != nil {
			return halt(state, err)
		}
		port, err := virt.VNCPort(x)
		if err != nil {
			return halt(state, err)
		}
		state.Put("vnc_port", port)
		ui.Say(fmt.Sprintf("VNC: %s:%d (serial console: %s)", c.VNCBindAddress, port, logPath))
		if c.PackerDebug {
			ui.Message(fmt.Sprintf("VNC password: %s", c.VNCPassword))
		}
	}
	return multistep.ActionContinue
}

func (s *stepStartDomain) Cleanup(state multistep.StateBag) {
	if s.watch != nil {
		s.watch.Close()
	}
	if s.console != nil {
		s.console.Disconnect()
	}
	if s.log != nil {
		s.log.Close()
	}
}
