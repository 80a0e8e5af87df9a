package sysprep

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// stepConvert writes each output not written yet with qemu-img convert,
// from the sparsified disk or the overlay.
type stepConvert struct {
	config *Config
}

func (s *stepConvert) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	src := state.Get("source").(string)
	srcFormat := state.Get("source_format").(string)
	for _, o := range state.Get("outputs").([]*output) {
		if o.written {
			continue
		}
		info := state.Get("input_info").(image.Info)
		bar := image.NewBar(ui, "convert "+filepath.Base(o.final), int64(info.VirtualSize))
		opts := image.ConvertOptions{SrcFormat: srcFormat, Format: o.format, Progress: bar.Set}
		if o.format == "qcow2" && s.config.Compression != "none" {
			opts.Compress = true
			opts.CompressionType = s.config.Compression
		}
		ui.Say(fmt.Sprintf("Converting to %s...", o.format))
		err := image.Convert(ctx, src, o.temp, opts)
		bar.Close()
		if err != nil {
			return halt(state, err)
		}
		o.written = true
	}
	return multistep.ActionContinue
}

func (s *stepConvert) Cleanup(multistep.StateBag) {}
