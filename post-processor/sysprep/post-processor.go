//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config
//go:generate go tool packer-sdc struct-markdown

// Package sysprep is the cloudimage-sysprep post-processor: virt-sysprep,
// virt-sparsify and conversion of the exported disk, with checksums.
package sysprep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// Config is the configuration of the cloudimage-sysprep post-processor.
// It takes the artifact's disk (from this plugin's builder, the QEMU
// builder, or any artifact with one disk file), and writes the files that
// get uploaded: virt-sysprep'd, virt-sparsify'd, converted and checksummed.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// Run virt-sysprep. Defaults to true (Windows guests are skipped with a
	// warning: virt-sysprep does not support them).
	VirtSysprep *bool `mapstructure:"sysprep"`
	// virt-sysprep's operations, replacing its defaults (`virt-sysprep
	// --list-operations` lists them). Unset, virt-sysprep's defaults.
	Operations []string `mapstructure:"operations"`
	// Operations to run on top of operations (or the defaults), such as
	// `["user-account"]`.
	Enable []string `mapstructure:"enable"`
	// Operations to leave out, such as `["ssh-userdir"]`.
	Disable []string `mapstructure:"disable"`
	// For the user-account operation: the accounts to keep (all others are
	// removed).
	KeepUserAccounts []string `mapstructure:"keep_user_accounts"`
	// For the user-account operation: the accounts to remove.
	RemoveUserAccounts []string `mapstructure:"remove_user_accounts"`
	// Scripts on this machine that the guest runs once at its first boot
	// (virt-sysprep --firstboot), such as one that regenerates the SSH host
	// keys where cloud-init does not.
	FirstbootScripts []string `mapstructure:"firstboot_scripts"`
	// More arguments for virt-sysprep, such as `["--hostname", "localhost"]`.
	ExtraArgs []string `mapstructure:"extra_args"`

	// Run virt-sparsify. Defaults to true.
	Sparsify *bool `mapstructure:"sparsify"`
	// `in-place` (the default: virt-sparsify discards the free space in the
	// overlay, and one `qemu-img convert` writes each output from it; needs
	// little space) or `copy` (virt-sparsify writes a new, compressed qcow2
	// by filling the free space with zeros, slower; needs free space in
	// tmp_dir up to the disk's virtual size and as much again for the
	// output). in-place relies on the guest's file systems taking discards
	// (ext4, XFS, Btrfs and vfat do); copy works on any.
	SparsifyMode string `mapstructure:"sparsify_mode"`
	// Where virt-sparsify keeps its temporary overlay. Defaults to
	// `TMPDIR`, else /var/tmp. Its free space is checked before starting.
	TmpDir string `mapstructure:"tmp_dir"`

	// The output formats, from `qcow2` (the default), `raw`, `vmdk`, `vhdx`,
	// `vpc` (VHD, written as .vhd) and `vdi`.
	Formats []string `mapstructure:"formats"`
	// The qcow2 output's compression: `zlib` (the default when formats holds
	// qcow2), `zstd` (smaller and faster; the compute nodes need QEMU 5.1 or
	// later to read it) or `none`.
	Compression string `mapstructure:"compression"`
	// Where the outputs are written. Defaults to the input's directory.
	OutputDirectory string `mapstructure:"output_directory"`
	// The outputs' file name, without its extension (which is the
	// format's). Defaults to the input's name.
	OutputName string `mapstructure:"output_name"`
	// Keep the input disk file, untouched (the outputs are made from an
	// overlay on it, so it is never written to). Defaults to false: the
	// input file is removed once the outputs are written, or replaced by
	// the output of the same name.
	KeepInput bool `mapstructure:"keep_input"`
	// Checksums written beside each output as `<file>.<type>`, in the format
	// `sha256sum -c` reads: from `sha256` (the default), `sha512`, `md5`. An
	// empty list writes none.
	ChecksumTypes []string `mapstructure:"checksum_types"`

	// The libguestfs backend (LIBGUESTFS_BACKEND), such as `direct` or
	// `libvirt`. Unset, libguestfs's own default, or LIBGUESTFS_BACKEND.
	LibguestfsBackend string `mapstructure:"libguestfs_backend"`
	// How the libguestfs appliance runs: `auto` (the default: KVM when a
	// probe boots a kernel under it, else software emulation), `kvm`, or
	// `tcg` (software emulation, as where nested KVM is broken).
	Accelerator string `mapstructure:"accelerator"`

	ctx interpolate.Context
}

// PostProcessor is the cloudimage-sysprep post-processor.
type PostProcessor struct {
	config Config
}

// ConfigSpec returns the HCL2 spec of the post-processor's configuration.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	return p.config.prepare(raws...)
}

// PostProcess inspects the artifact's disk, cleans an overlay on it with
// virt-sysprep, sparsifies and converts it to each format, writes the
// checksums, and only then gives the outputs their names.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, a packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	c := &p.config
	start := time.Now()
	input, info, err := artifact.Disk(ctx, a)
	if err != nil {
		return nil, false, false, err
	}
	outputs, tempBase := c.plan(input)
	for _, o := range outputs {
		if c.KeepInput && sameFile(o.final, input) {
			return nil, false, false, fmt.Errorf("the %s output %s would replace the input, which keep_input keeps: set output_name or output_directory", o.format, o.final)
		}
	}
	if err := os.MkdirAll(filepath.Dir(tempBase), 0o755); err != nil {
		return nil, false, false, fmt.Errorf("output_directory: %w", err)
	}

	state := new(multistep.BasicStateBag)
	state.Put("ui", ui)
	state.Put("tool", tool{ui: ui, env: c.libguestfsEnv(ctx, ui)})
	state.Put("input", input)
	state.Put("input_info", info)
	state.Put("outputs", outputs)
	state.Put("temp_base", tempBase)
	steps := []multistep.Step{
		stepTemps{},
		&stepOverlay{},
		&stepInspect{},
		&stepSysprep{config: c},
		&stepSparsify{config: c},
		&stepConvert{config: c},
		&stepChecksum{config: c},
		&stepPublish{config: c},
	}
	// -debug pauses after each step; -on-error=abort skips the steps'
	// cleanups (the SDK's runner does both, as for the builder and verify).
	runner := commonsteps.NewRunnerWithPauseFn(steps, c.PackerConfig, ui, state)
	runner.Run(ctx, state)
	c.sayKept(ui, state, tempBase)
	if err, ok := state.GetOk("error"); ok {
		return nil, false, false, err.(error)
	}
	if ctx.Err() != nil {
		return nil, false, false, ctx.Err()
	}
	ui.Say(fmt.Sprintf("cloudimage-sysprep done in %s", time.Since(start).Round(time.Second)))
	art := &Artifact{outputs: outputs, virtualSize: info.VirtualSize, guest: state.Get("guest").(Guest), inputState: artifact.Snapshot(a)}
	// The input was kept or removed here, as keep_input says: Packer must
	// not destroy the input artifact, whose directory may hold the outputs.
	return art, true, true, nil
}

// sayKept names, in one line, the overlay and temporary files that
// -on-error=abort kept (the runner skipped the cleanups of a failed or
// cancelled run): they all begin with tempBase.
func (c *Config) sayKept(ui packersdk.Ui, state multistep.StateBag, tempBase string) {
	if c.PackerOnError != "abort" {
		return
	}
	_, halted := state.GetOk(multistep.StateHalted)
	_, cancelled := state.GetOk(multistep.StateCancelled)
	if !halted && !cancelled {
		return
	}
	var kept []string
	entries, _ := os.ReadDir(filepath.Dir(tempBase))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), filepath.Base(tempBase)+".") {
			kept = append(kept, filepath.Join(filepath.Dir(tempBase), e.Name()))
		}
	}
	if len(kept) > 0 {
		ui.Say("-on-error=abort: kept the overlay and temporary files for a look (remove them yourself): " + strings.Join(kept, " "))
	}
}
