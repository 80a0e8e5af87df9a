package libvirt

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepShutdown stops the guest cleanly: shutdown_command through the
// communicator, else an ACPI power button press; with communicator "none"
// it waits for the guest (an installer) to power itself off. It waits on
// libvirt's lifecycle events. A guest still running after
// shutdown_timeout fails the build, as in the QEMU builder: its disk may
// be half written (a Windows sysprep cut short), so it is no artifact.
type stepShutdown struct {
	config *Config
}

func (s *stepShutdown) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	d := state.Get("driver").(virt.Driver)
	dom := state.Get("domain").(virt.Domain)
	c := s.config

	timeout := c.ShutdownTimeout
	switch {
	case c.Comm.Type == "none":
		// An install may take long: only a shutdown_timeout the user set
		// bounds this wait.
		if !c.shutdownTimeoutSet {
			timeout = 0
		}
		ui.Say("Waiting for the guest to power itself off (communicator \"none\")...")
	case c.ShutdownCommand != "":
		ui.Say("Running shutdown_command...")
		comm := state.Get("communicator").(packersdk.Communicator)
		cmd := &packersdk.RemoteCmd{Command: c.ShutdownCommand}
		if err := comm.Start(ctx, cmd); err != nil {
			return step.Halt(state, fmt.Errorf("shutdown_command: %w", err))
		}
	default:
		ui.Say("Pressing the guest's ACPI power button...")
		if err := d.Shutdown(dom); err != nil {
			return step.Halt(state, err)
		}
	}

	log.Printf("shutdown requested")
	start := time.Now()
	waitCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if d.WaitStopped(waitCtx, dom) {
		log.Printf("domain %s stopped %s after the request", c.VMName, time.Since(start))
		ui.Say("The guest has shut down")
		return multistep.ActionContinue
	}
	if ctx.Err() != nil {
		return multistep.ActionHalt
	}
	return step.Halt(state, fmt.Errorf("the guest did not shut down within shutdown_timeout (%s): its disk is not exported, as it may be half written; raise shutdown_timeout, or look at the console log %s", timeout, state.Get("console_log")))
}

func (s *stepShutdown) Cleanup(multistep.StateBag) {}
