package glance

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// An image that does not become active (killed, deactivated, a failed
// glance-direct import, a status Glance cannot tell, a timeout, a
// Ctrl-C) fails the build with the reason, and is deleted.
func TestWaitFailureDeletesTheImage(t *testing.T) {
	// readFails answers 500 to the status reads once the data is in.
	readFails := func(f *fakeCloud) {
		f.fault = func(r *http.Request) int {
			if r.Method == http.MethodGet && r.PathValue("id") != "" && f.uploadCount() > 0 {
				return http.StatusInternalServerError
			}
			return 0
		}
	}
	// cancelled is a Ctrl-C while the image is saving.
	cancelled := func(f *fakeCloud) {
		f.afterUpload = []string{"saving"}
		f.fault = func(r *http.Request) int {
			if r.Method == http.MethodGet && r.PathValue("id") != "" && f.uploadCount() > 0 {
				f.cancel()
			}
			return 0
		}
	}
	for _, tc := range []struct {
		name     string
		setup    func(f *fakeCloud)
		settings []any
		want     []string
	}{
		{"killed", func(f *fakeCloud) { f.afterUpload = []string{"saving", "killed"} }, nil,
			[]string{"the image went killed instead of active"}},
		{"deactivated", func(f *fakeCloud) { f.afterUpload = []string{"deactivated"} }, nil,
			[]string{"the image went deactivated instead of active"}},
		{"glance-direct import failed", func(f *fakeCloud) {
			// As Glance leaves an import that failed in every store: queued
			// again, the stores named, no data.
			f.mangle = func(img *fakeImage) {
				img.Status, img.Props["os_glance_failed_import"] = "queued", "local"
				img.Size, img.Checksum, img.HashAlgo, img.HashValue = 0, "", "", ""
			}
		}, []any{"import_method", "glance-direct", "stores", []string{"local"}},
			[]string{"Glance's import failed in the stores local", "os_glance_failed_import"}},
		{"status read fails", readFails, nil, []string{"reading the image's status", "500"}},
		{"timeout", func(f *fakeCloud) { f.afterUpload = []string{"saving"} }, []any{"timeout", "500ms"},
			[]string{"waiting for the image to become active", "context deadline exceeded"}},
		{"cancelled", cancelled, nil, []string{"context canceled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCloud(t)
			tc.setup(f)
			disk := newDisk(t)
			r := f.run(t, disk, tc.settings...)
			if r.err == nil {
				t.Fatalf("the build succeeded:\n%s", r.ui)
			}
			for _, want := range append(tc.want, "the image is deleted") {
				if !strings.Contains(r.err.Error(), want) {
					t.Errorf("error %q does not say %q", r.err, want)
				}
			}
			if r.artifact != nil {
				t.Errorf("an artifact from a failed build: %v", r.artifact)
			}
			f.empty(t)
		})
	}
}

// conflictSeeds are the images an earlier build left: the current
// release "old" (debian-12) and an older, renamed one "r1".
func conflictSeeds(f *fakeCloud) {
	f.seed(fakeImage{ID: "r1", Name: "debian-12-20240101T000000Z", CreatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	f.seed(fakeImage{ID: "old", Name: "debian-12", CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
}

// eventsOf are the events that begin with one of the prefixes, in order.
func eventsOf(events []string, prefixes ...string) []string {
	var out []string
	for _, e := range events {
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(e, p) }) {
			out = append(out, e)
		}
	}
	return out
}

// protected = true comes after everything else that can fail: members,
// the rename, the rotation. Then a failure of any of them leaves no
// protected image behind, which the rollback could not delete. (Replace's
// deletion of the old image comes after it: it cannot be undone, and only
// warns.)
func TestProtectedLast(t *testing.T) {
	sharing := []any{"protected", true, "visibility", "shared", "members", []string{"project-2"}}
	t.Run("order", func(t *testing.T) {
		f := newFakeCloud(t)
		conflictSeeds(f)
		disk := newDisk(t)
		r := f.run(t, disk, append(sharing, "on_conflict", "rename", "keep_releases", 2)...)
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.ui)
		}
		img := f.only(t, "debian-12", disk)
		got := eventsOf(f.eventLog(), "member", "rename", "delete", "protect")
		want := []string{"member " + img.ID + " project-2", "rename old debian-12-20240102T030405Z", "delete r1", "protect " + img.ID + " true"}
		if !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})
	t.Run("replace", func(t *testing.T) {
		f := newFakeCloud(t)
		conflictSeeds(f)
		disk := newDisk(t)
		r := f.run(t, disk, "protected", true, "on_conflict", "replace")
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.ui)
		}
		img := f.only(t, "debian-12", disk)
		if ev := f.eventLog(); !before(ev, "protect "+img.ID+" true", "delete old") {
			t.Errorf("events %v: want the new image protected before the one it replaces is deleted", ev)
		}
	})
	for _, tc := range []struct {
		name  string
		fault func(r *http.Request) int
		want  string
	}{
		{"member add fails", func(r *http.Request) int {
			if strings.HasSuffix(r.URL.Path, "/members") {
				return http.StatusConflict
			}
			return 0
		}, "members: sharing with project-2"},
		{"rotation delete fails", func(r *http.Request) int {
			if r.Method == http.MethodDelete && r.PathValue("id") == "r1" {
				return http.StatusInternalServerError
			}
			return 0
		}, "keep_releases: deleting r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCloud(t)
			conflictSeeds(f)
			f.fault = tc.fault
			r := f.run(t, newDisk(t), append(sharing, "on_conflict", "rename", "keep_releases", 2)...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || !strings.Contains(r.err.Error(), "the image is deleted") {
				t.Errorf("error %v, want one saying %q and that the image is deleted", r.err, tc.want)
			}
			if ev := eventsOf(f.eventLog(), "protect"); len(ev) != 0 {
				t.Errorf("protected before the failure: %v", ev)
			}
			if ids := ids(f); !slices.Equal(ids, []string{"r1", "old"}) {
				t.Errorf("Glance holds %v, want only the images it had", ids)
			}
		})
	}
}

// ids are the IDs of the images Glance holds, oldest first.
func ids(f *fakeCloud) []string {
	var ids []string
	for _, img := range f.all() {
		ids = append(ids, img.ID)
	}
	return ids
}

// With on_conflict = "rename", a failure or a Ctrl-C after the old image
// was renamed deletes the new one and gives the old one its name back:
// the name is never left without the image it had.
func TestRenameUndoneOnFailure(t *testing.T) {
	// firstPatch fails the first PATCH of the new image (protect): apply
	// says whether Glance applies it before the answer is lost.
	firstPatch := func(apply bool) func(f *fakeCloud) func(r *http.Request) int {
		return func(f *fakeCloud) func(r *http.Request) int {
			var once sync.Once
			return func(r *http.Request) int {
				id := r.PathValue("id")
				if r.Method != http.MethodPatch || id == "old" || id == "r1" {
					return 0
				}
				code := 0
				once.Do(func() {
					code = http.StatusInternalServerError
					if apply {
						f.mu.Lock()
						f.images[id].Protected = true
						f.mu.Unlock()
					}
				})
				return code
			}
		}
	}
	for _, tc := range []struct {
		name  string
		fault func(f *fakeCloud) func(r *http.Request) int
		want  string
	}{
		{"rotation delete fails", func(*fakeCloud) func(r *http.Request) int {
			return func(r *http.Request) int {
				if r.Method == http.MethodDelete && r.PathValue("id") == "r1" {
					return http.StatusInternalServerError
				}
				return 0
			}
		}, "keep_releases: deleting r1"},
		{"protect fails", firstPatch(false), "protected: protecting the image"},
		{"protect applied, its answer lost", firstPatch(true), "protected: protecting the image"},
		{"Ctrl-C after the rename", func(f *fakeCloud) func(r *http.Request) int {
			return func(r *http.Request) int {
				if r.Method == http.MethodPatch && r.PathValue("id") == "old" {
					f.cancel()
				}
				return 0
			}
		}, "context canceled"},
		{"member add fails", func(*fakeCloud) func(r *http.Request) int {
			return func(r *http.Request) int {
				if strings.HasSuffix(r.URL.Path, "/members") {
					return http.StatusInternalServerError
				}
				return 0
			}
		}, "members: sharing with project-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCloud(t)
			conflictSeeds(f)
			f.fault = tc.fault(f)
			r := f.run(t, newDisk(t), "on_conflict", "rename", "keep_releases", 2, "protected", true,
				"visibility", "shared", "members", []string{"project-2"})
			if r.err == nil {
				t.Fatalf("the build succeeded:\n%s", r.ui)
			}
			if !strings.Contains(r.err.Error(), tc.want) || !strings.Contains(r.err.Error(), "the image is deleted") {
				t.Errorf("error %v, want one saying %q and that the image is deleted\n%s", r.err, tc.want, r.ui)
			}
			renamed := slices.Contains(f.eventLog(), "rename old debian-12-20240102T030405Z")
			if renamed && !strings.Contains(r.err.Error(), `old is named "debian-12" again`) {
				t.Errorf("error %q does not say that old has its name back", r.err)
			}
			if old := f.image("old"); old == nil || old.Name != "debian-12" || old.Status != "active" || old.Protected {
				t.Errorf("the old image is %+v, want it active under debian-12", old)
			}
			// The rotation's deletions cannot be undone: r1 is gone when the
			// failure came after it.
			want := []string{"r1", "old"}
			if slices.Contains(f.eventLog(), "delete r1") {
				want = want[1:]
			}
			if ids := ids(f); !slices.Equal(ids, want) {
				t.Errorf("Glance holds %v, want %v: the new image gone", ids, want)
			}
			if renamed && r.ui.count("say", `Renaming the image old back to "debian-12"`) != 1 {
				t.Errorf("the UI did not say the renaming back:\n%s", r.ui)
			}
		})
	}
}
