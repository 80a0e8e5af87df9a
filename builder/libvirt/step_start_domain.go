package libvirt

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepStartDomain starts the domain with its serial console streamed into
// <output_directory>/console.log from the first line the firmware prints
// (virt.Driver.Start), and reads the VNC port libvirt gave it. The domain
// itself is destroyed by stepDefineDomain's cleanup.
type stepStartDomain struct {
	config   *Config
	attached io.Closer
	log      *os.File
}

func (s *stepStartDomain) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	d := state.Get("driver").(virt.Driver)
	dom := state.Get("domain").(virt.Domain)
	c := s.config

	logPath := filepath.Join(c.OutputDir, "console.log")
	var err error
	if s.log, err = os.Create(logPath); err != nil {
		return step.Halt(state, err)
	}
	state.Put("console_log", logPath)
	putData(state, "ConsoleLog", logPath)
	// Release the reserved ports for QEMU's forwards to take.
	if f, ok := state.GetOk("forwards"); ok {
		f.(*virt.Forwards).Release()
	}
	ui.Say("Starting the domain...")
	if s.attached, err = d.Start(ctx, dom, s.log); err != nil {
		return step.Halt(state, err)
	}
	if !c.DisableVNC {
		port, err := d.VNCPort(dom)
		if err != nil {
			return step.Halt(state, err)
		}
		state.Put("vnc_port", port)
		ui.Say(fmt.Sprintf("VNC: %s:%d (serial console: %s)", c.VNCBindAddress, port, logPath))
		if c.PackerDebug {
			ui.Say(fmt.Sprintf("VNC password: %s", c.VNCPassword))
		}
	}
	return multistep.ActionContinue
}

func (s *stepStartDomain) Cleanup(state multistep.StateBag) {
	if s.attached != nil {
		_ = s.attached.Close()
	}
	if s.log != nil {
		_ = s.log.Close()
	}
}
