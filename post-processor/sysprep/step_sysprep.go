package sysprep

import (
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// stepSysprep runs virt-sysprep on the overlay: SSH host keys, machine-id,
// logs, shell history, DHCP leases, ... (its operations) removed. Windows
// guests are skipped: virt-sysprep does not support them.
type stepSysprep struct {
	config *Config
}

func (s *stepSysprep) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	c := s.config
	if c.VirtSysprep != nil && !*c.VirtSysprep {
		if _, err := takeInspection(ctx, state); err != nil {
			return halt(state, err)
		}
		return multistep.ActionContinue
	}
	// virt-sysprep starts beside the inspection: on a Windows guest its
	// work on the overlay is thrown away.
	args := c.sysprepArgs(state.Get("source").(string))
	ui.Say("Cleaning the guest with virt-sysprep...")
	sysprepCtx, stop := context.WithCancel(ctx)
	defer stop()
	t := state.Get("tool").(tool)
	sysprep := inBackground(func() (struct{}, error) { return struct{}{}, t.run(sysprepCtx, "virt-sysprep", args...) })
	// A virt-sysprep that fails ends the step at once; otherwise the
	// inspection decides whether its work stays.
	select {
	case <-sysprep.done:
		if sysprep.err != nil {
			return halt(state, sysprep.err)
		}
	case <-state.Get("inspection").(*background[Guest]).done:
	}
	g, err := takeInspection(ctx, state)
	windows := err == nil && g.Type == "windows"
	if err != nil || windows {
		stop()
	}
	<-sysprep.done
	switch {
	case err != nil:
		return halt(state, err)
	case windows:
		ui.Error("Warning: virt-sysprep does not support Windows guests: skipped (generalize the guest with sysprep.exe in the template's shutdown_command); the disk is still sparsified and converted")
		// What virt-sysprep wrote before it was stopped goes.
		if err := state.Get("overlay").(*stepOverlay).create(ctx, state); err != nil {
			return halt(state, err)
		}
	case sysprep.err != nil:
		return halt(state, sysprep.err)
	}
	return multistep.ActionContinue
}

func (s *stepSysprep) Cleanup(multistep.StateBag) {}

// clearsMachineID: whether the machine-id operation runs (it is one of
// virt-sysprep's defaults).
func (c *Config) clearsMachineID() bool {
	if slices.Contains(c.Disable, "machine-id") {
		return false
	}
	return len(c.Operations) == 0 || slices.Contains(c.Operations, "machine-id") || slices.Contains(c.Operations, "defaults") || slices.Contains(c.Operations, "all") || slices.Contains(c.Enable, "machine-id")
}

// sysprepArgs is virt-sysprep's command line for the disk.
func (c *Config) sysprepArgs(disk string) []string {
	args := []string{"--format", "qcow2", "-a", disk}
	if len(c.Operations) > 0 || len(c.Enable) > 0 || len(c.Disable) > 0 {
		ops := slices.Clone(c.Operations)
		if len(ops) == 0 {
			ops = []string{"defaults"}
		}
		ops = append(ops, c.Enable...)
		for _, op := range c.Disable {
			ops = append(ops, "-"+op)
		}
		args = append(args, "--operations", strings.Join(ops, ","))
	}
	if len(c.KeepUserAccounts) > 0 {
		args = append(args, "--keep-user-accounts", strings.Join(c.KeepUserAccounts, ","))
	}
	if len(c.RemoveUserAccounts) > 0 {
		args = append(args, "--remove-user-accounts", strings.Join(c.RemoveUserAccounts, ","))
	}
	for _, f := range c.FirstbootScripts {
		args = append(args, "--firstboot", f)
	}
	if c.clearsMachineID() {
		// virt-sysprep's customize part writes a new random machine-id after
		// its machine-id operation emptied it: every instance of the image
		// would share it (and the DHCP client id systemd derives from it).
		// Emptied, systemd makes one per instance at first boot.
		args = append(args, "--run-command", "if [ -s /etc/machine-id ]; then : > /etc/machine-id; fi")
	}
	return append(args, c.ExtraArgs...)
}
