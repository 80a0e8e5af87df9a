package sysprep

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// stepOverlay makes a qcow2 overlay on the input: virt-sysprep and an
// in-place virt-sparsify write into it, so the input is never modified and
// nothing is copied before the outputs are written.
type stepOverlay struct {
	path string
}

func (s *stepOverlay) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	s.path = state.Get("temp_base").(string) + ".overlay.qcow2"
	if err := s.create(ctx, state); err != nil {
		return halt(state, err)
	}
	state.Put("overlay", s)
	state.Put("source", s.path)
	state.Put("source_format", "qcow2")
	return multistep.ActionContinue
}

// create makes the overlay, empty: again, it drops what was written to
// it.
func (s *stepOverlay) create(ctx context.Context, state multistep.StateBag) error {
	input := state.Get("input").(string)
	info := state.Get("input_info").(image.Info)
	out, err := exec.CommandContext(ctx, "qemu-img", "create", "-q", "-f", "qcow2", "-F", info.Format, "-b", absPath(input), s.path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img create (the overlay on %s): %w: %s", input, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Cleanup removes the overlay, whatever happened: the outputs are
// standalone files.
func (s *stepOverlay) Cleanup(multistep.StateBag) {
	if s.path != "" {
		os.Remove(s.path)
	}
}
