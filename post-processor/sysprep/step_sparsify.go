package sysprep

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

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
		p := newSparsifyProgress(ui, state, "")
		err := t.runFiltered(ctx, p.line, "virt-sparsify", "--machine-readable", "--in-place", "--format", "qcow2", src)
		p.close()
		if err != nil {
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
	args := []string{"--machine-readable", "--check-tmpdir=fail", "--tmp", c.tmpDir(), "--format", "qcow2", "--convert", "qcow2"}
	if compress {
		args = append(args, "--compress")
		if c.Compression == "zstd" {
			args = append(args, "-o", "compression_type=zstd")
		}
	}
	args = append(args, src, dst)
	ui.Say("Sparsifying the disk with virt-sparsify (copy mode)...")
	p := newSparsifyProgress(ui, state, dst)
	err := t.runFiltered(ctx, p.line, "virt-sparsify", args...)
	p.close()
	if err != nil {
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

// sparsifyProgress draws virt-sparsify's progress as bars, one per
// phase. With --machine-readable, libguestfs prints its operations'
// progress (filling each file system's free space with zeros, trimming)
// as "N/M" lines, a real measure. The copy to the output has none:
// virt-sparsify runs qemu-img convert without -p. That phase's bar is the
// output file's growth against the input's allocation (qemu-img info's
// actual-size): the sparsified output, smaller, and compressed smaller
// still, ends short of the whole bar, which then closes. Nothing better
// is reported. The JSON copies of the status lines go to the log only.
type sparsifyProgress struct {
	ui              packersdk.Ui
	virtual, actual int64
	dst             string // the copy's output; "" in place
	bar             *image.Bar
	stopWatching    chan struct{}
	watching        sync.WaitGroup
}

func newSparsifyProgress(ui packersdk.Ui, state multistep.StateBag, dst string) *sparsifyProgress {
	info := state.Get("input_info").(image.Info)
	return &sparsifyProgress{ui: ui, virtual: int64(info.VirtualSize), actual: int64(info.ActualSize), dst: dst}
}

// line takes the lines that are progress, JSON or a copy's start.
func (p *sparsifyProgress) line(line string) bool {
	if strings.HasPrefix(line, "{") {
		log.Printf("virt-sparsify: %s", line)
		return true
	}
	if pct, ok := fraction(line); ok {
		if p.bar == nil {
			p.bar = image.NewBar(p.ui, "virt-sparsify", p.virtual)
		}
		p.bar.Set(pct)
		return true
	}
	// A status line ("[  17.5] Fill free space in /dev/sda1 with zero"):
	// the last phase's bar is done.
	p.close()
	if p.dst != "" && strings.Contains(line, "Copy to destination") {
		p.watch()
	}
	return false
}

// watch drives a bar by the output file's size, every second.
func (p *sparsifyProgress) watch() {
	p.bar = image.NewBar(p.ui, "virt-sparsify copy to "+filepath.Base(p.dst), p.actual)
	p.stopWatching = make(chan struct{})
	p.watching.Add(1)
	go func(bar *image.Bar, stop chan struct{}) {
		defer p.watching.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if st, err := os.Stat(p.dst); err == nil && p.actual > 0 {
					bar.Set(100 * float64(st.Size()) / float64(p.actual))
				}
			}
		}
	}(p.bar, p.stopWatching)
}

// close ends the current bar, if any.
func (p *sparsifyProgress) close() {
	if p.stopWatching != nil {
		close(p.stopWatching)
		p.watching.Wait()
		p.stopWatching = nil
	}
	if p.bar != nil {
		p.bar.Close()
		p.bar = nil
	}
}

// fraction reads libguestfs's machine-readable progress, "N/M".
func fraction(line string) (float64, bool) {
	n, m, ok := strings.Cut(line, "/")
	if !ok {
		return 0, false
	}
	a, err1 := strconv.ParseUint(n, 10, 64)
	b, err2 := strconv.ParseUint(m, 10, 64)
	if err1 != nil || err2 != nil || b == 0 {
		return 0, false
	}
	return 100 * float64(a) / float64(b), true
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
