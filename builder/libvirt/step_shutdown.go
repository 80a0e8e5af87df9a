package libvirt

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepShutdown stops the guest cleanly: shutdown_command through the
// communicator, else an ACPI power button press; with communicator "none"
// it waits for the guest (an installer) to power itself off. It waits on
// libvirt's lifecycle events, and forces the domain off after
// shutdown_timeout.
type stepShutdown struct {
	config *Config
}

func (s *stepShutdown) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	dom := state.Get("domain").(libvirt.Domain)
	watch := state.Get("stop_watch").(*virt.StopWatch)
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
			return halt(state, fmt.Errorf("shutdown_command: %w", err))
		}
	default:
		ui.Say("Pressing the guest's ACPI power button...")
		if err := conn.DomainShutdownFlags(dom, libvirt.DomainShutdownAcpiPowerBtn); err != nil {
			return halt(state, fmt.Errorf("ACPI shutdown of %s: %w", c.VMName, err))
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
	if watch.Wait(waitCtx) {
		log.Printf("domain %s stopped %s after the request", c.VMName, time.Since(start))
		ui.Say("The guest has shut down")
		return multistep.ActionContinue
	}
	if ctx.Err() != nil {
		return multistep.ActionHalt
	}
	ui.Error(fmt.Sprintf("The guest did not shut down within shutdown_timeout (%s): forcing it off", timeout))
	if err := conn.DomainDestroy(dom); err != nil && !libvirt.IsNotFound(err) {
		return halt(state, fmt.Errorf("forcing %s off: %w", c.VMName, err))
	}
	return multistep.ActionContinue
}

func (s *stepShutdown) Cleanup(multistep.StateBag) {}
