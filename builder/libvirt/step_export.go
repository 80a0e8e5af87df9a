package libvirt

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/atomicfile"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/stream"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepExport writes the build disk to <output_directory>/<vm_name>.<format>:
// compacted by qemu-img (zeroed and unused clusters dropped, a backing file
// flattened), optionally compressed, or copied as it is with
// skip_compaction. From a remote host the volume is downloaded first. Every
// qemu-img call names the disk's format: the guest wrote its bytes.
type stepExport struct {
	config *Config
	// img runs qemu-img; tests replace it.
	img imageTool
}

// imageTool is the part of package image the builder uses: qemu-img.
type imageTool struct {
	inspect  func(ctx context.Context, path, format string) (image.Info, error)
	convert  func(ctx context.Context, src, dst string, o image.ConvertOptions) error
	copyInto func(ctx context.Context, src, srcFormat, dst, dstFormat string) error
}

var qemuImg = imageTool{inspect: image.Inspect, convert: image.Convert, copyInto: image.CopyInto}

func (s *stepExport) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	d := state.Get("driver").(virt.Driver)
	vol := state.Get("disk_volume").(virt.Volume)
	c := s.config
	final := filepath.Join(c.OutputDir, c.VMName+"."+c.DiskFormat)
	// Written under a hidden name, published whole: a killed build leaves
	// no complete-looking half disk.
	dst := atomicfile.TempName(final)
	defer os.Remove(dst)
	start := time.Now()

	src := vol.Path
	if !virt.IsLocal(d.URI()) {
		src = atomicfile.TempName(final) + ".download"
		defer os.Remove(src)
		ui.Say(fmt.Sprintf("Downloading volume %s...", vol.Name()))
		if err := download(ctx, ui, d, vol, src); err != nil {
			return step.Halt(state, err)
		}
	}
	info, err := s.img.inspect(ctx, src, c.DiskFormat)
	if err != nil {
		return step.Halt(state, err)
	}
	if c.SkipCompaction && info.BackingFile == "" {
		ui.Say(fmt.Sprintf("Copying the disk to %s...", final))
		if err := copyFile(src, dst); err != nil {
			return step.Halt(state, err)
		}
	} else {
		ui.Say(fmt.Sprintf("Exporting the disk to %s (qemu-img convert%s)...", final, map[bool]string{true: ", compressed"}[c.DiskCompression]))
		// The bar is of the virtual size, which qemu-img's percentage is of.
		bar := image.NewBar(ui, "export "+filepath.Base(final), int64(info.VirtualSize))
		err := s.img.convert(ctx, src, dst, image.ConvertOptions{
			SrcFormat: c.DiskFormat, Format: c.DiskFormat, Compress: c.DiskCompression, Progress: bar.Set,
		})
		bar.Close()
		if err != nil {
			os.Remove(dst)
			return step.Halt(state, err)
		}
	}
	out, err := s.img.inspect(ctx, dst, c.DiskFormat)
	if err != nil {
		return step.Halt(state, err)
	}
	if err := atomicfile.Publish(dst, final); err != nil {
		return step.Halt(state, err)
	}
	log.Printf("export done: %d bytes written in %s", out.ActualSize, time.Since(start))
	ui.Say(fmt.Sprintf("Exported %s: %d MiB on disk, %d MiB virtual, in %s", filepath.Base(final), out.ActualSize>>20, out.VirtualSize>>20, time.Since(start).Round(time.Second)))
	state.Put("disk_path", final)
	putData(state, "DiskPath", final)
	state.Put("disk_info", out)
	return multistep.ActionContinue
}

func (s *stepExport) Cleanup(multistep.StateBag) {}

// download streams a volume of the libvirt host into a local file, with a
// progress bar.
func download(ctx context.Context, ui packersdk.Ui, d virt.Driver, vol virt.Volume, dst string) error {
	allocation, err := d.VolumeAllocation(vol)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	bar := ui.TrackProgress(vol.Name(), 0, int64(allocation), pr)
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(f, stream.Reader(ctx, bar))
		bar.Close()
		done <- err
	}()
	err = d.DownloadVolume(ctx, vol, pw)
	pw.CloseWithError(err)
	if cerr := <-done; err == nil {
		err = cerr
	}
	if err == nil {
		err = f.Close()
	}
	return err
}

// copyFile copies src to dst; on Linux io.Copy between files uses
// copy_file_range, which shares blocks where the filesystem can.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return out.Close()
}
