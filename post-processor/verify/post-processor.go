//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config

// Package verify is the cloudimage-verify post-processor: it boots the
// finished image the way Nova would and proves the checklist live.
package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// PostProcessor is the cloudimage-verify post-processor.
type PostProcessor struct {
	config Config
	// dial opens the libvirt driver: step.Libvirt unless a unit test sets
	// a fake.
	dialer func(uri string) (virt.Driver, error)
	// waits replaces defaultWaits, and onInstance sees the instance made,
	// in unit tests.
	waits      *waits
	onInstance func(*instance)
}

func (p *PostProcessor) dial() func(uri string) (virt.Driver, error) {
	if p.dialer != nil {
		return p.dialer
	}
	return step.Libvirt
}

// ConfigSpec returns the HCL2 spec of the post-processor's configuration.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error { return p.config.prepare(raws...) }

// PostProcess boots the artifact's disk as an instance, checks the items,
// writes the report, removes the instance, and passes the input's files
// and state on, with what the checks proved.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, a packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	c := p.config // a copy: the artifact's machine type and firmware fill it
	start := time.Now()
	// The cloudimage-sysprep artifact's inspection of the guest.
	if g := artifact.Guest(a); g["os_type"] == "windows" {
		return nil, false, false, errors.New("cloudimage-verify checks Linux images (L01-L18); this image is Windows, which it cannot check yet: leave the post-processor out of Windows builds (only/except)")
	}
	input, info, err := artifact.Disk(ctx, a)
	if err != nil {
		return nil, false, false, err
	}
	if c.MachineType == "" {
		c.MachineType = artifact.MachineType(a)
	}
	if c.MachineType == "" {
		c.MachineType = "pc"
	}
	if c.Firmware == "" {
		c.Firmware = artifact.Firmware(a)
	}
	if c.CDROMInterface == "" {
		c.CDROMInterface = "ide"
		if virt.IsQ35(c.MachineType) {
			c.CDROMInterface = "sata" // q35 has no IDE controller
		}
	}
	if err := c.checkBuses(); err != nil { // the artifact's machine type
		return nil, false, false, err
	}
	in, err := newInstance(&c)
	if err != nil {
		return nil, false, false, err
	}
	if p.onInstance != nil {
		p.onInstance(in)
	}
	w := defaultWaits
	if p.waits != nil {
		w = *p.waits
	}
	// The console log lives beside the report, not in a temporary folder:
	// after a failure, its user needs both.
	consoleLog := strings.TrimSuffix(c.ReportFile, filepath.Ext(c.ReportFile)) + ".console.log"
	if err := os.MkdirAll(filepath.Dir(consoleLog), 0o755); err != nil {
		return nil, false, false, fmt.Errorf("report_file: %w", err)
	}
	ui.Say(fmt.Sprintf("Verifying %s (%s, %d MiB)", input, info.Format, info.VirtualSize>>20))

	files, label := in.files()
	state := new(multistep.BasicStateBag)
	state.Put("ui", ui)
	state.Put("instance", in)
	state.Put("context", ctx) // for keep: a Ctrl-C leaves nothing
	steps := []multistep.Step{
		&step.Connect{URI: c.LibvirtURI, Pool: c.StoragePool, DomainType: &c.DomainType, Dial: p.dial()},
		&step.Claim{
			Name: c.VMName, Component: "cloudimage-verify", DomainType: &c.DomainType, Force: c.PackerForce,
			Keep: func(state multistep.StateBag) bool { return keep(state, &c) },
		},
		&stepDisk{config: &c, input: input, info: info},
		&commonsteps.StepCreateCD{Content: files, Label: label},
		&stepStageConfigDrive{config: &c},
		&stepDefine{config: &c},
		&step.Start{LogPath: consoleLog},
		&stepCheck{config: &c, waits: w},
		&stepReport{config: &c},
	}
	runner := commonsteps.NewRunnerWithPauseFn(steps, c.PackerConfig, ui, state)
	runner.Run(ctx, state)

	if err, ok := state.GetOk("error"); ok {
		ui.Say(fmt.Sprintf("cloudimage-verify failed: the instance's console log is %s; the report, if the checks ran, %s", consoleLog, c.ReportFile))
		return nil, false, false, err.(error)
	}
	if _, ok := state.GetOk(multistep.StateCancelled); ok {
		return nil, false, false, errors.New("cloudimage-verify: cancelled")
	}
	ui.Say(fmt.Sprintf("cloudimage-verify: done in %s", time.Since(start).Round(time.Second)))
	results, _ := state.Get("results").([]report.Result)
	return newArtifact(a, input, c.ReportFile, results, in.user), true, false, nil
}
