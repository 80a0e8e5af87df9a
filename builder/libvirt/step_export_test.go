package libvirt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// fakeImg is qemu-img for the export: convert copies the bytes and
// records its options; inspect reports the file's size, and the backing
// file set for src.
type fakeImg struct {
	converts []image.ConvertOptions
	inspects []string // "path format"
	backing  string
	fail     error
}

func (f *fakeImg) tool() imageTool {
	return imageTool{
		inspect: func(_ context.Context, path, format string) (image.Info, error) {
			f.inspects = append(f.inspects, filepath.Base(path)+" "+format)
			st, err := os.Stat(path)
			if err != nil {
				return image.Info{}, err
			}
			info := image.Info{Format: format, VirtualSize: 1 << 30, ActualSize: uint64(st.Size())}
			if !strings.HasPrefix(filepath.Base(filepath.Dir(path)), "out") {
				info.BackingFile = f.backing
			}
			return info, nil
		},
		convert: func(_ context.Context, src, dst string, o image.ConvertOptions) error {
			f.converts = append(f.converts, o)
			o.Progress(40)
			o.Progress(100)
			if f.fail != nil {
				_ = os.WriteFile(dst, []byte("half"), 0o644)
				return f.fail
			}
			b, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		},
	}
}

// exportState is a build whose disk volume holds data.
func exportState(t *testing.T, c *Config) *stepTest {
	t.Helper()
	st := newStepTest(t, c)
	vol, err := st.d.CreateVolume("default", virt.VolumeSpec{Name: c.VMName + "." + c.DiskFormat, Format: c.DiskFormat, Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vol.Path, []byte("the guest's disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	st.state.Put("disk_volume", vol)
	return st
}

func TestStepExport(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]interface{}
		backing   string
		// What the user gets: converted (with which options) or copied.
		convert  bool
		compress bool
	}{
		{name: "compacted", convert: true},
		{name: "compressed", overrides: map[string]interface{}{"disk_compression": true}, convert: true, compress: true},
		{name: "raw", overrides: map[string]interface{}{"disk_format": "raw"}, convert: true},
		{name: "skip_compaction: copied as it is", overrides: map[string]interface{}{"skip_compaction": true}},
		{name: "skip_compaction on an overlay: flattened all the same", overrides: map[string]interface{}{"skip_compaction": true}, backing: "/pool/base.qcow2", convert: true},
		{name: "remote host: downloaded, then compacted", overrides: map[string]interface{}{"libvirt_uri": "qemu+ssh://kvm.example/system"}, convert: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			c := stepConfig(t, merge(map[string]interface{}{"vm_name": "web", "output_directory": out, "packer_force": true}, tc.overrides))
			st := exportState(t, c)
			img := &fakeImg{backing: tc.backing}
			st.run(&stepExport{config: c, img: img.tool()}, multistep.ActionContinue)

			dst := filepath.Join(out, "web."+c.DiskFormat)
			if readFile(t, dst) != "the guest's disk" || st.state.Get("disk_path") != dst {
				t.Errorf("%s holds %q; disk_path %v", dst, readFile(t, dst), st.state.Get("disk_path"))
			}
			if got := st.state.Get("disk_info").(image.Info); got.Format != c.DiskFormat || got.VirtualSize != 1<<30 {
				t.Errorf("disk_info %+v", got)
			}
			// Every qemu-img call names the format: the guest wrote the bytes.
			for _, in := range img.inspects {
				if !strings.HasSuffix(in, " "+c.DiskFormat) {
					t.Errorf("qemu-img info %s: not told the format %s", in, c.DiskFormat)
				}
			}
			if tc.convert != (len(img.converts) == 1) {
				t.Fatalf("converts %+v, want convert %v", img.converts, tc.convert)
			}
			if tc.convert {
				o := img.converts[0]
				if o.SrcFormat != c.DiskFormat || o.Format != c.DiskFormat || o.Compress != tc.compress {
					t.Errorf("convert %+v, want -f %s -O %s, compressed %v", o, c.DiskFormat, c.DiskFormat, tc.compress)
				}
				// qemu-img's percentage drives a bar of the virtual size.
				if got := st.ui.ProgressRead("export web." + c.DiskFormat); got != 1<<30 {
					t.Errorf("the export's progress bar read %d bytes, want %d", got, 1<<30)
				}
			}
			remote := !virt.IsLocal(c.LibvirtURI)
			if remote != (st.d.Called("DownloadVolume", "web.qcow2") == 1) {
				t.Errorf("remote %v; calls %v", remote, st.d.Calls)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 1 {
				t.Errorf("output directory holds %v, want the disk alone (no .download left)", entries)
			}
			if remote && st.ui.ProgressRead("web.qcow2") != int64(len("the guest's disk")) {
				t.Errorf("the download's progress bar read %d bytes", st.ui.ProgressRead("web.qcow2"))
			}
		})
	}
}

// A failed conversion leaves no half-written file under the disk's name.
func TestStepExportFails(t *testing.T) {
	out := t.TempDir()
	c := stepConfig(t, map[string]interface{}{"vm_name": "web", "output_directory": out, "packer_force": true})
	st := exportState(t, c)
	img := &fakeImg{fail: errors.New("qemu-img convert: No space left on device")}
	st.run(&stepExport{config: c, img: img.tool()}, multistep.ActionHalt)
	if !st.ui.ErrorSaid("No space left on device") {
		t.Errorf("the user saw %q", st.ui.Errors())
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("output directory holds %v after the failure", entries)
	}

	// A remote download that breaks leaves no .download file either.
	c = stepConfig(t, map[string]interface{}{"vm_name": "web", "output_directory": out, "packer_force": true, "libvirt_uri": "qemu+ssh://kvm.example/system"})
	st = exportState(t, c)
	st.d.Errs["DownloadVolume"] = errors.New("downloading volume web.qcow2: connection reset")
	st.run(&stepExport{config: c, img: (&fakeImg{}).tool()}, multistep.ActionHalt)
	if entries, _ := os.ReadDir(out); len(entries) != 0 || !slices.Contains(st.ui.Errors(), "downloading volume web.qcow2: connection reset") {
		t.Errorf("output directory holds %v; errors %q", entries, st.ui.Errors())
	}
}
