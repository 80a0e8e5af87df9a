package glance

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// on_conflict = "keep": the existing image is the artifact, and its
// Destroy (Packer's, when a later post-processor fails or the artifact is
// not kept) leaves it: this build did not make it. An image of the name
// that is not active is no image to keep: the build fails naming it.
func TestKeep(t *testing.T) {
	t.Run("destroy leaves the image", func(t *testing.T) {
		f := newFakeCloud(t)
		f.seed(fakeImage{ID: "old", Name: "debian-12"})
		r := f.run(t, newDisk(t), "on_conflict", "keep")
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.ui)
		}
		if err := r.artifact.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		if old := f.image("old"); old == nil || len(f.eventLog()) != 0 {
			t.Errorf("after Destroy Glance holds %v, events %v: want the kept image untouched", f.names(), f.eventLog())
		}
	})
	for _, status := range []string{"killed", "queued", "saving", "deactivated"} {
		t.Run(status, func(t *testing.T) {
			f := newFakeCloud(t)
			f.seed(fakeImage{ID: "left", Name: "debian-12", Status: status})
			r := f.run(t, newDisk(t), "on_conflict", "keep")
			want := `on_conflict = keep: the image "debian-12" left is ` + status + ", not active"
			if r.err == nil || !strings.Contains(r.err.Error(), want) {
				t.Errorf("error %v, want one saying %q", r.err, want)
			}
			if r.artifact != nil || f.uploadCount() != 0 || len(f.eventLog()) != 0 {
				t.Errorf("artifact %v, %d uploads, events %v: want none", r.artifact, f.uploadCount(), f.eventLog())
			}
		})
	}
	// A kept image that is active, beside a leftover of the name that is
	// not: still the leftover is named.
	t.Run("an active one and a leftover", func(t *testing.T) {
		f := newFakeCloud(t)
		f.seed(fakeImage{ID: "good", Name: "debian-12", CreatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		f.seed(fakeImage{ID: "left", Name: "debian-12", Status: "killed", CreatedAt: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)})
		r := f.run(t, newDisk(t), "on_conflict", "keep")
		if r.err == nil || !strings.Contains(r.err.Error(), "left is killed") {
			t.Errorf("error %v, want one naming the killed leftover", r.err)
		}
	})
}

// Images with os_hidden, which Glance leaves out of a list unless asked,
// conflict, are renamed, rotated and kept like any other; a new hidden
// image counts as a release.
func TestHiddenImages(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	t.Run("error", func(t *testing.T) {
		f := newFakeCloud(t)
		f.seed(fakeImage{ID: "old", Name: "debian-12", Hidden: true})
		r := f.run(t, newDisk(t))
		if r.err == nil || !strings.Contains(r.err.Error(), `an image named "debian-12" exists in the project (old)`) {
			t.Errorf("error %v, want the hidden image's conflict", r.err)
		}
		if f.uploadCount() != 0 {
			t.Errorf("uploaded despite the conflict")
		}
	})
	t.Run("keep", func(t *testing.T) {
		f := newFakeCloud(t)
		f.seed(fakeImage{ID: "old", Name: "debian-12", Hidden: true})
		r := f.run(t, newDisk(t), "on_conflict", "keep")
		if r.err != nil || r.artifact.Id() != "old" {
			t.Errorf("artifact %v, error %v: want the hidden image kept", r.artifact, r.err)
		}
	})
	t.Run("rename and rotate", func(t *testing.T) {
		f := newFakeCloud(t)
		f.seed(fakeImage{ID: "r1", Name: "debian-12-20240101T000000Z", CreatedAt: day(1)})
		f.seed(fakeImage{ID: "r2", Name: "debian-12-20240102T000000Z", CreatedAt: day(2), Hidden: true})
		f.seed(fakeImage{ID: "current", Name: "debian-12", CreatedAt: day(3), Hidden: true})
		disk := newDisk(t)
		r := f.run(t, disk, "hidden", true, "on_conflict", "rename", "keep_releases", 2)
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.ui)
		}
		img := f.only(t, "debian-12", disk)
		left := f.ids()
		if want := []string{"current debian-12-20240103T000000Z", img.ID + " debian-12"}; !slices.Equal(left, want) || !img.Hidden {
			t.Errorf("Glance holds %v (the new one hidden: %v), want %v, hidden", left, img.Hidden, want)
		}
	})
}
