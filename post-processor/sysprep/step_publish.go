package sysprep

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// stepPublish renames every output and checksum to its final name, then
// removes the input unless keep_input (or an output took its name). Until
// then nothing is written under a final name; its cleanup removes the
// temporary files a failure or cancel left.
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
			if err := os.Rename(o.temp+"."+typ, o.final+"."+typ); err != nil {
				return halt(state, err)
			}
		}
		if err := os.Rename(o.temp, o.final); err != nil {
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

// Cleanup removes what is left under temporary names.
func (s *stepPublish) Cleanup(state multistep.StateBag) {
	outputs, _ := state.Get("outputs").([]*output)
	for _, o := range outputs {
		os.Remove(o.temp)
		for _, typ := range ChecksumTypes {
			os.Remove(o.temp + "." + typ)
		}
	}
}

func sameFile(a, b string) bool { return absPath(a) == absPath(b) }
