package sysprep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// stepSparsify runs virt-sparsify. In copy mode it writes a new qcow2,
// compressed as asked when that is an output (the qcow2 output then needs
// no conversion); in in-place mode it discards the free space in the
// overlay.
type stepSparsify struct {
	config *Config
	temp   string
}

func (s *stepSparsify) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	t := state.Get("tool").(tool)
	c := s.config
	if !*c.Sparsify {
		return multistep.ActionContinue
	}
	src := state.Get("source").(string)
	if c.SparsifyMode == "in-place" {
		ui.Say("Sparsifying the disk in place with virt-sparsify...")
		if err := t.run(ctx, "virt-sparsify", "--in-place", "--format", "qcow2", src); err != nil {
			return halt(state, err)
		}
		return multistep.ActionContinue
	}

	info := state.Get("input_info").(image.Info)
	outputs := state.Get("outputs").([]*output)
	dst := state.Get("temp_base").(string) + ".sparse.qcow2"
	compress := false
	if o := findOutput(outputs, "qcow2"); o != nil {
		// The qcow2 output, straight from virt-sparsify.
		dst, compress = o.temp, c.Compression != "none"
	} else {
		s.temp = dst
	}
	if err := checkSpace(c.tmpDir(), info.VirtualSize, filepath.Dir(dst), info.VirtualSize); err != nil {
		return halt(state, err)
	}
	args := []string{"--check-tmpdir=fail", "--tmp", c.tmpDir(), "--format", "qcow2", "--convert", "qcow2"}
	if compress {
		args = append(args, "--compress")
		if c.Compression == "zstd" {
			args = append(args, "-o", "compression_type=zstd")
		}
	}
	args = append(args, src, dst)
	ui.Say("Sparsifying the disk with virt-sparsify (copy mode)...")
	if err := t.run(ctx, "virt-sparsify", args...); err != nil {
		return halt(state, err)
	}
	if o := findOutput(outputs, "qcow2"); o != nil {
		o.written = true
	}
	state.Put("source", dst)
	return multistep.ActionContinue
}

// Cleanup removes the sparsified copy made only to convert from.
func (s *stepSparsify) Cleanup(multistep.StateBag) {
	if s.temp != "" {
		os.Remove(s.temp)
	}
}

// tmpDir is where virt-sparsify keeps its overlay: tmp_dir, TMPDIR, or
// /var/tmp, as virt-sparsify chooses.
func (c *Config) tmpDir() string {
	if c.TmpDir != "" {
		return c.TmpDir
	}
	if d := os.Getenv("TMPDIR"); d != "" {
		return d
	}
	return "/var/tmp"
}

// checkSpace fails unless tmp has room for tmpNeed bytes and out for
// outNeed, both together when they share a file system: copy mode can need
// the virtual size in each.
func checkSpace(tmp string, tmpNeed uint64, out string, outNeed uint64) error {
	freeTmp, tmpFS, err := fsFree(tmp)
	if err != nil {
		return fmt.Errorf("tmp_dir %s: %w", tmp, err)
	}
	freeOut, outFS, err := fsFree(out)
	if err != nil {
		return fmt.Errorf("output_directory %s: %w", out, err)
	}
	if tmpFS == outFS {
		if need := tmpNeed + outNeed; freeTmp < need {
			return fmt.Errorf("virt-sparsify's copy mode can need %d MiB in tmp_dir %s and output_directory %s (one file system), which have %d MiB free: free some, set tmp_dir elsewhere, or set sparsify_mode = \"in-place\"", need>>20, tmp, out, freeTmp>>20)
		}
		return nil
	}
	if freeTmp < tmpNeed {
		return fmt.Errorf("virt-sparsify's copy mode can need %d MiB in tmp_dir %s, which has %d MiB free: set tmp_dir elsewhere, or sparsify_mode = \"in-place\"", tmpNeed>>20, tmp, freeTmp>>20)
	}
	if freeOut < outNeed {
		return fmt.Errorf("the output can need %d MiB in %s, which has %d MiB free", outNeed>>20, out, freeOut>>20)
	}
	return nil
}
