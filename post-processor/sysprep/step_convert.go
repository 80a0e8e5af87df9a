package sysprep

import (
	"context"
	"fmt"

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
		opts := image.ConvertOptions{SrcFormat: srcFormat, Format: o.format, Progress: progress(ui, o.format)}
		if o.format == "qcow2" && s.config.Compression != "none" {
			opts.Compress = true
			opts.CompressionType = s.config.Compression
		}
		ui.Say(fmt.Sprintf("Converting to %s...", o.format))
		if err := image.Convert(ctx, src, o.temp, opts); err != nil {
			return halt(state, err)
		}
		o.written = true
	}
	return multistep.ActionContinue
}

func (s *stepConvert) Cleanup(multistep.StateBag) {}

// progress reports qemu-img's progress every 10%.
func progress(ui packersdk.Ui, what string) func(float64) {
	return image.EveryTenPercent(func(p float64) { ui.Say(fmt.Sprintf("%s: %.0f%%", what, p)) })
}
