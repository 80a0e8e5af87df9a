package libvirt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// stepOutputDir is the SDK's output directory step, except for what a
// failed or cancelled build leaves: the SDK deletes the whole directory,
// console log and checklist report included, exactly when its user needs
// them. This one deletes everything else (a half-exported disk above all)
// and says where the evidence is.
type stepOutputDir struct {
	commonsteps.StepOutputDir
	made bool
}

func (s *stepOutputDir) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	action := s.StepOutputDir.Run(ctx, state)
	s.made = action == multistep.ActionContinue
	return action
}

func (s *stepOutputDir) Cleanup(state multistep.StateBag) {
	_, cancelled := state.GetOk(multistep.StateCancelled)
	_, halted := state.GetOk(multistep.StateHalted)
	if !s.made || !cancelled && !halted {
		return
	}
	ui := state.Get("ui").(packersdk.Ui)
	kept, err := keepEvidence(s.Path)
	if err != nil {
		ui.Error(fmt.Sprintf("Cleaning the output directory: %v", err))
	}
	if len(kept) == 0 {
		_ = os.Remove(s.Path)
		return
	}
	ui.Say(fmt.Sprintf("The build did not finish; kept in %s for a look: %s", s.Path, strings.Join(kept, ", ")))
}

// isEvidence reports whether a file of the output directory tells what
// went wrong: the serial console log, the checklist report.
func isEvidence(name string) bool {
	return name == "console.log" || strings.HasSuffix(name, ".json")
}

// keepEvidence deletes everything in dir but the evidence, and names what
// it kept.
func keepEvidence(dir string) (kept []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && isEvidence(e.Name()) {
			kept = append(kept, e.Name())
			continue
		}
		if rerr := os.RemoveAll(filepath.Join(dir, e.Name())); rerr != nil && err == nil {
			err = rerr
		}
	}
	return kept, err
}
