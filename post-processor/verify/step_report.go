package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
)

// stepReport shows the table, writes the report and applies fail_on.
type stepReport struct{ config *Config }

func (s *stepReport) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	results := state.Get("results").([]report.Result)
	ui.Say("Verify:\n" + report.Table(results))
	if err := report.Write(s.config.ReportFile, results); err != nil {
		return step.Halt(state, err)
	}
	ui.Say("Report: " + s.config.ReportFile)
	failed := report.Failures(results)
	if len(failed) == 0 {
		return multistep.ActionContinue
	}
	state.Put("failed", true)
	if s.config.FailOn == "none" {
		ui.Say(fmt.Sprintf("%d items failed (fail_on = \"none\": the build goes on)", len(failed)))
		return multistep.ActionContinue
	}
	return step.Halt(state, fmt.Errorf("the image failed %d items of the checklist:\n%s", len(failed), strings.Join(failed, "\n")))
}

func (s *stepReport) Cleanup(multistep.StateBag) {}
