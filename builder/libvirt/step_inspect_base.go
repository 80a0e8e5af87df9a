package libvirt

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
)

// stepInspectBase probes the downloaded base image once, before any guest
// runs: its format, from then on named to every tool instead of guessed,
// and its virtual size, which disk_size may not be below.
type stepInspectBase struct {
	config *Config
	// inspect is image.Inspect; tests replace it.
	inspect func(ctx context.Context, path, format string) (image.Info, error)
}

func (s *stepInspectBase) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	path, ok := state.GetOk("base_image_path")
	if !ok {
		return multistep.ActionContinue
	}
	c := s.config
	info, err := s.inspect(ctx, path.(string), "")
	if err != nil {
		return step.Halt(state, fmt.Errorf("disk_image_url: %w", err))
	}
	if err := c.fitsBaseImage(info); err != nil {
		return step.Halt(state, err)
	}
	state.Get("ui").(packersdk.Ui).Say(fmt.Sprintf("Base image: %s, %d MiB virtual", info.Format, info.VirtualSize>>20))
	state.Put("base_image_info", info)
	return multistep.ActionContinue
}

func (s *stepInspectBase) Cleanup(multistep.StateBag) {}
