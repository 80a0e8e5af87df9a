package libvirt

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// copyCall is one call of stepCreateDisk's copyInto.
type copyCall struct{ src, srcFormat, dst, dstFormat string }

// The build disk: its size, format, and whether it is empty, an overlay on
// the base image (with the base's probed format), or a copy of it.
func TestStepCreateDisk(t *testing.T) {
	base := image.Info{Format: "qcow2", VirtualSize: 2 << 30}
	for _, tc := range []struct {
		name      string
		overrides map[string]interface{}
		base      *image.Info
		// What the user finds in the pool, and whether the base is copied.
		wantFormat  string
		wantSize    uint64
		wantBacking string // "" = none
		wantCopy    bool
	}{
		{name: "ISO, no disk_size: 10 GiB, empty", wantFormat: "qcow2", wantSize: 10 << 30},
		{name: "ISO, disk_size 3G", overrides: map[string]interface{}{"disk_size": "3G"}, wantFormat: "qcow2", wantSize: 3 << 30},
		{name: "ISO, raw", overrides: map[string]interface{}{"disk_format": "raw", "disk_size": "1G"}, wantFormat: "raw", wantSize: 1 << 30},
		{name: "base image, its size, copied", base: &base, wantFormat: "qcow2", wantSize: 2 << 30, wantCopy: true},
		{name: "base image grown, copied", overrides: map[string]interface{}{"disk_size": "5G"}, base: &base, wantFormat: "qcow2", wantSize: 5 << 30, wantCopy: true},
		{
			name: "base image as backing file", overrides: map[string]interface{}{"use_backing_file": true},
			base: &base, wantFormat: "qcow2", wantSize: 2 << 30, wantBacking: "/pool/web-base.img",
		},
		{
			name: "raw base image as backing file: its format named", overrides: map[string]interface{}{"use_backing_file": true, "disk_size": "4G"},
			base: &image.Info{Format: "raw", VirtualSize: 1 << 30}, wantFormat: "qcow2", wantSize: 4 << 30, wantBacking: "/pool/web-base.img",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := map[string]interface{}{"vm_name": "web"}
			if tc.base != nil {
				maps.Copy(o, fromImage)
			}
			maps.Copy(o, tc.overrides)
			c := stepConfig(t, o)
			st := newStepTest(t, c)
			if tc.base != nil {
				st.state.Put("base_image_path", "/downloads/base.img")
				st.state.Put("base_image_host_path", "/pool/web-base.img")
				st.state.Put("base_image_info", *tc.base)
			}
			var copies []copyCall
			s := &stepCreateDisk{config: c, copyInto: func(_ context.Context, src, srcFormat, dst, dstFormat string) error {
				copies = append(copies, copyCall{src, srcFormat, dst, dstFormat})
				return nil
			}}
			st.run(s, multistep.ActionContinue)

			name := "web." + tc.wantFormat
			v := st.d.Volume("default", name)
			if v == nil {
				t.Fatalf("no volume %s; volumes: %v", name, st.d.VolumeNames())
			}
			if v.Spec.Format != tc.wantFormat || v.Spec.Capacity != tc.wantSize || v.Spec.Backing != tc.wantBacking {
				t.Errorf("volume %+v, want format %s, %d bytes, backing %q", v.Spec, tc.wantFormat, tc.wantSize, tc.wantBacking)
			}
			if tc.wantBacking != "" && v.Spec.BackingFormat != tc.base.Format {
				t.Errorf("backing format %q, want the base image's probed %q", v.Spec.BackingFormat, tc.base.Format)
			}
			wantCopies := []copyCall(nil)
			if tc.wantCopy {
				wantCopies = []copyCall{{"/downloads/base.img", tc.base.Format, v.Path, tc.wantFormat}}
			}
			if !slices.Equal(copies, wantCopies) {
				t.Errorf("copies %+v, want %+v", copies, wantCopies)
			}
			if got := st.state.Get("disk_volume").(virt.Volume); got.Path != v.Path {
				t.Errorf("disk_volume %s, want %s", got.Path, v.Path)
			}

			// A later step fails: cleanup deletes the disk.
			s.Cleanup(st.state)
			if names := st.d.VolumeNames(); len(names) != 0 {
				t.Errorf("after cleanup: volumes %v", names)
			}
		})
	}
}

func TestStepCreateDiskFailures(t *testing.T) {
	t.Run("the volume cannot be made", func(t *testing.T) {
		c := stepConfig(t, map[string]interface{}{"vm_name": "web"})
		st := newStepTest(t, c)
		st.d.Errs["CreateVolume"] = errors.New("creating volume web.qcow2 in pool default: no space")
		s := &stepCreateDisk{config: c}
		st.run(s, multistep.ActionHalt)
		if !strings.Contains(st.err().Error(), "no space") || !st.ui.ErrorSaid("no space") {
			t.Errorf("error %v; the user saw %q", st.err(), st.ui.Errors())
		}
		s.Cleanup(st.state)
		if st.d.Called("DeleteVolume") != 0 {
			t.Errorf("calls %v: cleanup deleted a volume it never made", st.d.Calls)
		}
	})
	// A volume of the disk's name that the build did not make: on a shared
	// host, web01.qcow2 may be a production VM's disk.
	t.Run("a volume of its name exists", func(t *testing.T) {
		for _, force := range []bool{false, true} {
			c := stepConfig(t, map[string]interface{}{"vm_name": "web"})
			c.PackerForce = force
			st := newStepTest(t, c)
			st.d.Foreign("", nil, "web.qcow2")
			s := &stepCreateDisk{config: c}
			st.run(s, multistep.ActionHalt)
			if !strings.Contains(st.err().Error(), "volume web.qcow2 exists in pool default, and this build did not create it") {
				t.Errorf("-force %v: error %v", force, st.err())
			}
			s.Cleanup(st.state)
			if st.d.Called("DeleteVolume") != 0 || st.d.Volume("default", "web.qcow2").Spec.Capacity != 16 {
				t.Errorf("-force %v: calls %v: the foreign volume was touched", force, st.d.Calls)
			}
		}
	})
	t.Run("the copy fails", func(t *testing.T) {
		c := stepConfig(t, merge(fromImage, map[string]interface{}{"vm_name": "web"}))
		st := newStepTest(t, c)
		st.state.Put("base_image_path", "/downloads/base.img")
		st.state.Put("base_image_info", image.Info{Format: "qcow2", VirtualSize: 1 << 30})
		s := &stepCreateDisk{config: c, copyInto: func(context.Context, string, string, string, string) error {
			return errors.New("qemu-img convert: Could not open")
		}}
		st.run(s, multistep.ActionHalt)
		s.Cleanup(st.state)
		if names := st.d.VolumeNames(); len(names) != 0 {
			t.Errorf("after the failed copy and cleanup: volumes %v", names)
		}
	})
}

// The base image is probed once, its format recorded for every later tool;
// a disk_size below its virtual size stops the build before any guest.
func TestStepInspectBase(t *testing.T) {
	probe := func(info image.Info, err error) func(context.Context, string, string) (image.Info, error) {
		return func(_ context.Context, _, format string) (image.Info, error) {
			if format != "" {
				t.Errorf("the download was probed as %q: its format is not known yet", format)
			}
			return info, err
		}
	}
	t.Run("recorded", func(t *testing.T) {
		c := stepConfig(t, nil)
		st := newStepTest(t, c)
		st.state.Put("base_image_path", "/downloads/base.img")
		st.run(&stepInspectBase{config: c, inspect: probe(image.Info{Format: "raw", VirtualSize: 1 << 30}, nil)}, multistep.ActionContinue)
		if got := st.state.Get("base_image_info").(image.Info); got.Format != "raw" {
			t.Errorf("base_image_info %+v", got)
		}
		if !st.ui.Said("Base image: raw, 1024 MiB virtual") {
			t.Errorf("said %q", st.ui.Lines())
		}
	})
	t.Run("disk_size too small", func(t *testing.T) {
		c := stepConfig(t, map[string]interface{}{"disk_size": "1G"})
		st := newStepTest(t, c)
		st.state.Put("base_image_path", "/downloads/base.img")
		st.run(&stepInspectBase{config: c, inspect: probe(image.Info{Format: "qcow2", VirtualSize: 2 << 30}, nil)}, multistep.ActionHalt)
		if !strings.Contains(st.err().Error(), "disk_size 1G is smaller than the base image's virtual size") {
			t.Errorf("error %v", st.err())
		}
	})
	t.Run("not an image", func(t *testing.T) {
		c := stepConfig(t, nil)
		st := newStepTest(t, c)
		st.state.Put("base_image_path", "/downloads/base.img")
		st.run(&stepInspectBase{config: c, inspect: probe(image.Info{}, errors.New("qemu-img info: Could not open"))}, multistep.ActionHalt)
		if !strings.HasPrefix(st.err().Error(), "disk_image_url: ") {
			t.Errorf("error %v does not name disk_image_url", st.err())
		}
	})
	t.Run("ISO build: nothing to do", func(t *testing.T) {
		c := stepConfig(t, nil)
		st := newStepTest(t, c)
		st.run(&stepInspectBase{config: c, inspect: probe(image.Info{}, errors.New("called"))}, multistep.ActionContinue)
	})
	// A downloaded qcow2 whose backing file is a file of this machine:
	// every later read of the image would read that file.
	t.Run("a backing file", func(t *testing.T) {
		c := stepConfig(t, nil)
		st := newStepTest(t, c)
		st.state.Put("base_image_path", "/downloads/base.img")
		st.run(&stepInspectBase{config: c, inspect: probe(image.Info{Format: "qcow2", VirtualSize: 1 << 30, BackingFile: "/etc/shadow"}, nil)}, multistep.ActionHalt)
		if !strings.Contains(st.err().Error(), "has a backing file, /etc/shadow, which this plugin did not set up") {
			t.Errorf("error %v", st.err())
		}
	})
}
