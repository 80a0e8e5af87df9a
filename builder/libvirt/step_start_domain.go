package libvirt

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepStartDomain starts the domain with its serial console streamed into
// <output_directory>/console.log (step.Start, as verify starts its
// instance), and reads the VNC port libvirt gave it. The domain itself is
// destroyed by stepDefineDomain's cleanup.
type stepStartDomain struct {
	config *Config
	start  step.Start
}

func (s *stepStartDomain) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	c := s.config
	logPath := filepath.Join(c.OutputDir, "console.log")
	putData(state, "ConsoleLog", logPath)
	ui.Say("Starting the domain...")
	s.start.LogPath = logPath
	if action := s.start.Run(ctx, state); action != multistep.ActionContinue {
		return action
	}
	if !c.DisableVNC {
		d := state.Get("driver").(virt.Driver)
		port, err := d.VNCPort(state.Get("domain").(virt.Domain))
		if err != nil {
			return step.Halt(state, err)
		}
		state.Put("vnc_port", port)
		ui.Say(fmt.Sprintf("VNC: %s:%d", c.VNCBindAddress, port))
		if c.PackerDebug {
			ui.Say(fmt.Sprintf("VNC password: %s", c.VNCPassword))
		}
	}
	return multistep.ActionContinue
}

func (s *stepStartDomain) Cleanup(state multistep.StateBag) { s.start.Cleanup(state) }
