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
// and its virtual size, which disk_size may not be below. A base image
// that points at other files (a backing file, a data file) is refused.
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
	var info image.Info
	if b := c.localBase; b != nil && b.path == path.(string) {
		info = b.info // probed by Prepare: the file is used in place
	} else {
		var err error
		if info, err = s.inspect(ctx, path.(string), ""); err != nil {
			return step.Halt(state, fmt.Errorf("disk_image_url: %w", err))
		}
	}
	if err := info.SelfContained("disk_image_url: the base image " + path.(string)); err != nil {
		return step.Halt(state, err)
	}
	if err := c.fitsBaseImage(info); err != nil {
		return step.Halt(state, err)
	}
	state.Get("ui").(packersdk.Ui).Say(fmt.Sprintf("Base image: %s, %d MiB virtual", info.Format, info.VirtualSize>>20))
	state.Put("base_image_info", info)
	return multistep.ActionContinue
}

func (s *stepInspectBase) Cleanup(multistep.StateBag) {}
