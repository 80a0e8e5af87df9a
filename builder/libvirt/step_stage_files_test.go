package libvirt

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// What QEMU boots from is used where it is when QEMU can read it there,
// and uploaded into the pool otherwise: a remote host, a folder QEMU's
// user cannot enter. Uploads hold the file's bytes and go with cleanup.
func TestStepStageFiles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		uri      string
		private  bool // the files are in a 0700 folder
		uploaded bool
		why      string
	}{
		{name: "local, readable: in place", uri: "qemu:///system"},
		{name: "local, private folder: uploaded", uri: "qemu:///system", private: true, uploaded: true, why: "is not searchable by others"},
		{name: "session daemon, private folder: in place (QEMU runs as the user)", uri: "qemu:///session", private: true},
		{name: "remote host: uploaded", uri: "qemu+ssh://root@kvm.example/system", uploaded: true, why: "not this machine's own daemon"},
		{name: "loopback TCP (maybe a tunnel): uploaded", uri: "qemu+tcp://127.0.0.1/system", uploaded: true, why: "not this machine's own daemon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := shareable(t)
			if tc.private {
				dir = t.TempDir()
			}
			files := map[string]string{
				"iso_path":    fileWith(t, dir, "install.iso", "the ISO"),
				"cd_path":     fileWith(t, dir, "cidata.iso", "the CD"),
				"floppy_path": fileWith(t, dir, "floppy.img", "the floppy"),
			}
			extra := fileWith(t, dir, "drivers.iso", "drivers")
			c := stepConfig(t, map[string]interface{}{"vm_name": "web", "libvirt_uri": tc.uri, "additional_iso_files": []map[string]interface{}{{"iso_url": extra, "iso_checksum": "none"}}})
			st := newStepTest(t, c)
			for k, v := range files {
				st.state.Put(k, v)
			}
			_, extraKey := additionalISOKey(0)
			from, _ := additionalISOKey(0)
			st.state.Put(from, extra)
			s := &stepStageFiles{config: c}
			st.run(s, multistep.ActionContinue)

			hostPaths := map[string]string{
				"iso_host_path": files["iso_path"], "cd_host_path": files["cd_path"],
				"floppy_host_path": files["floppy_path"], extraKey: extra,
			}
			wantVolumes := []string(nil)
			if tc.uploaded {
				wantVolumes = []string{"default/web-cd.iso", "default/web-floppy.img", "default/web-iso.iso", "default/web-iso1.iso"}
			}
			if got := st.d.VolumeNames(); !slices.Equal(got, wantVolumes) {
				t.Fatalf("volumes %v, want %v", got, wantVolumes)
			}
			for key, local := range hostPaths {
				got := st.state.Get(key).(string)
				if !tc.uploaded {
					if got != local {
						t.Errorf("%s = %s, want the file itself %s", key, got, local)
					}
					continue
				}
				if got == local || filepath.Dir(got) != st.d.Dir {
					t.Errorf("%s = %s, want a volume's path", key, got)
				}
				if readFile(t, got) != readFile(t, local) {
					t.Errorf("%s holds %q, the file %q", key, readFile(t, got), readFile(t, local))
				}
				if v := st.d.Volume("default", filepath.Base(got)); v == nil || v.Spec.Format != "raw" {
					t.Errorf("volume of %s: %+v, want raw", key, v)
				}
			}
			if tc.uploaded && !st.ui.Said(tc.why) {
				t.Errorf("the user is not told why the files were uploaded (%q): %q", tc.why, st.ui.Lines())
			}

			s.Cleanup(st.state)
			if got := st.d.VolumeNames(); len(got) != 0 {
				t.Errorf("after cleanup: volumes %v", got)
			}
		})
	}
}

// A base image used as a backing file is staged too, as its probed
// format; one that is copied into the disk is not.
func TestStepStageBaseImage(t *testing.T) {
	for _, backing := range []bool{true, false} {
		// Copied, it is read by qemu-img here, never staged: a private
		// folder on the local daemon would be uploaded if it were.
		c := stepConfig(t, merge(fromImage, map[string]interface{}{"vm_name": "web", "use_backing_file": backing}))
		st := newStepTest(t, c)
		st.state.Put("base_image_path", fileWith(t, t.TempDir(), "base.img", "QFI\xfb..."))
		st.state.Put("base_image_info", image.Info{Format: "qcow2", VirtualSize: 1 << 30})
		st.run(&stepStageFiles{config: c}, multistep.ActionContinue)
		v := st.d.Volume("default", "web-base.img")
		if backing != (v != nil) {
			t.Fatalf("use_backing_file %v: base volume %+v", backing, v)
		}
		if backing && (v.Spec.Format != "qcow2" || st.state.Get("base_image_host_path") != v.Path) {
			t.Errorf("base volume %+v, host path %v; want qcow2, its path", v.Spec, st.state.Get("base_image_host_path"))
		}
	}
}

// An upload that fails leaves no volume, its own nor the earlier ones once
// cleanup runs.
func TestStepStageFilesUploadFails(t *testing.T) {
	c := stepConfig(t, map[string]interface{}{"vm_name": "web", "libvirt_uri": "qemu+ssh://kvm.example/system"})
	st := newStepTest(t, c)
	dir := t.TempDir()
	st.state.Put("iso_path", fileWith(t, dir, "install.iso", "the ISO"))
	st.state.Put("cd_path", fileWith(t, dir, "cidata.iso", "the CD"))
	st.d.Errs["UploadVolume web-cd.iso"] = errors.New("uploading into volume web-cd.iso: connection reset")
	s := &stepStageFiles{config: c}
	st.run(s, multistep.ActionHalt)
	if !strings.Contains(st.err().Error(), "connection reset") {
		t.Errorf("error %v", st.err())
	}
	if got := st.d.VolumeNames(); !slices.Equal(got, []string{"default/web-iso.iso"}) {
		t.Errorf("after the failed upload: volumes %v, want the ISO's only", got)
	}
	s.Cleanup(st.state)
	if got := st.d.VolumeNames(); len(got) != 0 {
		t.Errorf("after cleanup: volumes %v", got)
	}
	if _, err := os.Stat(st.state.Get("iso_path").(string)); err != nil {
		t.Errorf("the local ISO is gone: %v", err)
	}
}
