package libvirt

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepExport writes the build disk to <output_directory>/<vm_name>.<format>:
// compacted by qemu-img (zeroed and unused clusters dropped, a backing file
// flattened), optionally compressed, or copied as it is with
// skip_compaction. From a remote host the volume is downloaded first.
type stepExport struct {
	config *Config
}

func (s *stepExport) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	vol := state.Get("disk_volume").(virt.Volume)
	c := s.config
	dst := filepath.Join(c.OutputDir, c.VMName+"."+c.DiskFormat)
	start := time.Now()

	src := vol.Path
	if !virt.IsLocal(c.LibvirtURI) {
		src = dst + ".download"
		defer os.Remove(src)
		ui.Say(fmt.Sprintf("Downloading volume %s...", vol.Vol.Name))
		if err := download(ctx, ui, conn, vol, src); err != nil {
			return halt(state, err)
		}
	}
	info, err := image.Inspect(ctx, src)
	if err != nil {
		return halt(state, err)
	}
	if c.SkipCompaction && info.BackingFile == "" {
		ui.Say(fmt.Sprintf("Copying the disk to %s...", dst))
		if err := copyFile(src, dst); err != nil {
			return halt(state, err)
		}
	} else {
		ui.Say(fmt.Sprintf("Exporting the disk to %s (qemu-img convert%s)...", dst, map[bool]string{true: ", compressed"}[c.DiskCompression]))
		err := image.Convert(ctx, src, dst, image.ConvertOptions{
			Format: c.DiskFormat, Compress: c.DiskCompression,
			Progress: image.EveryTenPercent(func(p float64) { ui.Message(fmt.Sprintf("export: %.0f%%", p)) }),
		})
		if err != nil {
			os.Remove(dst)
			return halt(state, err)
		}
	}
	out, err := image.Inspect(ctx, dst)
	if err != nil {
		return halt(state, err)
	}
	log.Printf("export done: %d bytes written in %s", out.ActualSize, time.Since(start))
	ui.Say(fmt.Sprintf("Exported %s: %d MiB on disk, %d MiB virtual, in %s", filepath.Base(dst), out.ActualSize>>20, out.VirtualSize>>20, time.Since(start).Round(time.Second)))
	state.Put("disk_path", dst)
	putData(state, "DiskPath", dst)
	state.Put("disk_info", out)
	return multistep.ActionContinue
}

func (s *stepExport) Cleanup(multistep.StateBag) {}

// download streams a volume of the libvirt host into a local file, with a
// progress bar.
func download(ctx context.Context, ui packersdk.Ui, conn *libvirt.Libvirt, vol virt.Volume, dst string) error {
	_, _, allocation, err := conn.StorageVolGetInfo(vol.Vol)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	bar := ui.TrackProgress(vol.Vol.Name, 0, int64(allocation), pr)
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(f, virt.ContextReader(ctx, bar))
		bar.Close()
		done <- err
	}()
	err = virt.Download(conn, vol.Vol, pw)
	pw.CloseWithError(err)
	if cerr := <-done; err == nil {
		err = cerr
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
