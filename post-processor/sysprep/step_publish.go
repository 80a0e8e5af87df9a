package sysprep

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/atomicfile"
)

// stepPublish publishes every output and checksum under its final name
// (synced, renamed), then removes the input unless keep_input (or an
// output took its name). Until then nothing is written under a final
// name; stepTemps, first of the steps, removes the temporaries a failure
// or a cancel left.
type stepPublish struct {
	config *Config
}

func (s *stepPublish) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	input := state.Get("input").(string)
	outputs := state.Get("outputs").([]*output)
	replaced := false
	for _, o := range outputs {
		for _, typ := range s.config.ChecksumTypes {
			if err := atomicfile.Publish(o.temp+"."+typ, o.final+"."+typ); err != nil {
				return halt(state, err)
			}
		}
		if err := atomicfile.Publish(o.temp, o.final); err != nil {
			return halt(state, err)
		}
		replaced = replaced || sameFile(o.final, input)
		st, _ := os.Stat(o.final)
		ui.Say(fmt.Sprintf("Wrote %s (%d MiB)", o.final, st.Size()>>20))
	}
	if !s.config.KeepInput && !replaced {
		if err := os.Remove(input); err != nil {
			return halt(state, fmt.Errorf("removing the input (keep_input = false): %w", err))
		}
	}
	return multistep.ActionContinue
}

func (s *stepPublish) Cleanup(multistep.StateBag) {}

// stepTemps comes first, so that its cleanup, which removes whatever is
// left under the outputs' temporary names, runs whichever later step
// failed or was cancelled: the SDK runs the cleanup of the steps that ran
// only, and the outputs are written by stepConvert and stepChecksum, long
// before stepPublish.
type stepTemps struct{}

func (stepTemps) Run(context.Context, multistep.StateBag) multistep.StepAction {
	return multistep.ActionContinue
}

func (stepTemps) Cleanup(state multistep.StateBag) {
	outputs, _ := state.Get("outputs").([]*output)
	for _, o := range outputs {
		os.Remove(o.temp)
		for _, typ := range ChecksumTypes {
			os.Remove(o.temp + "." + typ)
		}
	}
}

func sameFile(a, b string) bool { return absPath(a) == absPath(b) }
