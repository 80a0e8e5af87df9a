package glance

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// These tests run the post-processor against the fake Keystone and Glance
// of fake_glance_test.go, on loopback. test/glance runs it against the
// real ones; these cover the faults and the policies a real Glance cannot
// be made to show on demand.

// testDisk is a small raw disk file and its hashes.
type testDisk struct {
	path, md5, sha256, sha512 string
	size                      int64
}

// newDisk writes a 2 MiB raw disk. The post-processor reads the file's
// format and virtual size with qemu-img info, so the test needs qemu-img.
func newDisk(t *testing.T) testDisk {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed: the post-processor reads the disk's format with `qemu-img info`")
	}
	var data []byte
	for i := 0; i < 2048; i++ {
		data = fmt.Appendf(data, "%01023d\n", i)
	}
	path := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, s256, m := sha512.Sum512(data), sha256.Sum256(data), md5.Sum(data)
	return testDisk{path: path, md5: hex.EncodeToString(m[:]), sha256: hex.EncodeToString(s256[:]), sha512: hex.EncodeToString(s[:]), size: int64(len(data))}
}

// fileArtifact is an upstream artifact whose only file is the disk.
type fileArtifact struct{ path string }

func (a fileArtifact) BuilderId() string        { return "test.disk" }
func (a fileArtifact) Files() []string          { return []string{a.path} }
func (a fileArtifact) Id() string               { return "disk" }
func (a fileArtifact) String() string           { return a.path }
func (a fileArtifact) State(string) interface{} { return nil }
func (a fileArtifact) Destroy() error           { return nil }

// uiRecorder is a packersdk.Ui that keeps what the build said, and how
// much each progress bar read. Safe for the goroutines that show an
// upload's progress.
type uiRecorder struct {
	mu    sync.Mutex
	lines []string // "say: ..." and "error: ..."
	bars  []int64  // the bytes read through each progress bar
}

func (u *uiRecorder) Say(m string)              { u.add("say: " + m) }
func (u *uiRecorder) Sayf(f string, a ...any)   { u.Say(fmt.Sprintf(f, a...)) }
func (u *uiRecorder) Message(m string)          { u.Say(m) }
func (u *uiRecorder) Error(m string)            { u.add("error: " + m) }
func (u *uiRecorder) Errorf(f string, a ...any) { u.Error(fmt.Sprintf(f, a...)) }
func (u *uiRecorder) Machine(string, ...string) {}
func (u *uiRecorder) Ask(string) (string, error) {
	return "", errors.New("no input in a test")
}
func (u *uiRecorder) Askf(string, ...any) (string, error) {
	return "", errors.New("no input in a test")
}

func (u *uiRecorder) add(line string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lines = append(u.lines, line)
}

func (u *uiRecorder) TrackProgress(_ string, _, _ int64, stream io.ReadCloser) io.ReadCloser {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bars = append(u.bars, 0)
	return &progressBar{ui: u, n: len(u.bars) - 1, ReadCloser: stream}
}

type progressBar struct {
	ui *uiRecorder
	n  int
	io.ReadCloser
}

func (p *progressBar) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.ui.mu.Lock()
	p.ui.bars[p.n] += int64(n)
	p.ui.mu.Unlock()
	return n, err
}

// count is how many lines of that kind ("say" or "error") contain s.
func (u *uiRecorder) count(kind, s string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, l := range u.lines {
		if strings.HasPrefix(l, kind+": ") && strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// progress is the bytes read through each progress bar, in order.
func (u *uiRecorder) progress() []int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.bars)
}

func (u *uiRecorder) String() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return strings.Join(u.lines, "\n")
}

// result is what PostProcess returned, and what the UI showed.
type result struct {
	artifact          packersdk.Artifact
	keep, forceRemove bool
	err               error
	ui                *uiRecorder
}

// run configures the post-processor for the fake cloud (user demo,
// image_name debian-12; settings are more key, value pairs) and runs it on
// the disk.
func (f *fakeCloud) run(t *testing.T, disk testDisk, settings ...any) result {
	t.Helper()
	cleanEnv(t)
	raw := map[string]interface{}{
		"image_name":        "debian-12",
		"identity_endpoint": f.srv.URL + "/v3",
		"username":          "demo", "password": fakePassword,
		"project_name": "demo", "user_domain_name": "Default", "project_domain_name": "Default",
		"region": "RegionOne",
	}
	for i := 0; i+1 < len(settings); i += 2 {
		raw[settings[i].(string)] = settings[i+1]
	}
	var p PostProcessor
	if err := p.Configure(raw); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	ui := &uiRecorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f.mu.Lock()
	f.cancelRun = cancel
	f.mu.Unlock()
	a, keep, force, err := p.PostProcess(ctx, ui, fileArtifact{disk.path})
	return result{artifact: a, keep: keep, forceRemove: force, err: err, ui: ui}
}

// only fails the test unless the project has exactly one image of that
// name, active, holding the disk's data; it returns it.
func (f *fakeCloud) only(t *testing.T, name string, disk testDisk) fakeImage {
	t.Helper()
	var found []fakeImage
	for _, img := range f.all() {
		if img.Name == name && img.Owner == f.project {
			found = append(found, img)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the project has %d images named %s, want 1: %v", len(found), name, f.names())
	}
	img := found[0]
	if img.Status != "active" || img.Checksum != disk.md5 || img.HashValue != disk.sha512 || img.Size != disk.size {
		t.Fatalf("image %s: status %s, md5 %s, sha512 %.16s..., size %d; want active, md5 %s, sha512 %.16s..., size %d",
			img.ID, img.Status, img.Checksum, img.HashValue, img.Size, disk.md5, disk.sha512, disk.size)
	}
	return img
}

// empty fails the test unless Glance holds no image.
func (f *fakeCloud) empty(t *testing.T) {
	t.Helper()
	if names := f.names(); len(names) != 0 {
		t.Errorf("left in Glance: %v", names)
	}
}

// before: whether event a happened, and before event b.
func before(events []string, a, b string) bool {
	i, j := slices.Index(events, a), slices.Index(events, b)
	return i >= 0 && j >= 0 && i < j
}

// dropConnection reads a part of the upload, then cuts the connection
// (a reset).
func dropConnection(w http.ResponseWriter, r *http.Request) {
	_, _ = io.CopyN(io.Discard, r.Body, 256<<10)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.(*net.TCPConn).SetLinger(0) // a reset, not a FIN
	conn.Close()
}

// answer reads the whole upload, as a proxy in front of Glance would, and
// answers it with that code.
func answer(w http.ResponseWriter, r *http.Request, code int) {
	_, _ = io.Copy(io.Discard, r.Body)
	http.Error(w, fmt.Sprintf("%d %s", code, http.StatusText(code)), code)
}

// The plain case: one active image with the file's data, the defaults of
// the record, the verification said, and an artifact that names the image
// and destroys it.
func TestUploadActiveAndVerified(t *testing.T) {
	f := newFakeCloud(t)
	disk := newDisk(t)
	r := f.run(t, disk, "tags", []string{"golden"}, "protected", true)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.ui)
	}
	img := f.only(t, "debian-12", disk)
	if img.DiskFormat != "raw" || img.ContainerFormat != "bare" || img.Visibility != "private" || img.MinDisk != 1 ||
		!img.Protected || !slices.Equal(img.Tags, []string{"golden"}) || img.Owner != f.project ||
		img.Props["hw_qemu_guest_agent"] != "yes" || img.Props["hw_disk_bus"] != "virtio" || img.Props["hw_vif_model"] != "virtio" {
		t.Errorf("the record: %+v", img)
	}
	if r.ui.count("say", "Uploading "+disk.path+" (raw, 2 MiB)") != 1 ||
		r.ui.count("say", "Image "+img.ID+" is active") != 1 || r.ui.count("say", "sha512 and md5 match") != 1 {
		t.Errorf("the UI did not say the upload and its verification:\n%s", r.ui)
	}
	if r.ui.count("error", "") != 0 {
		t.Errorf("warnings on a plain upload:\n%s", r.ui)
	}
	if bars := r.ui.progress(); len(bars) != 1 || bars[0] != disk.size {
		t.Errorf("progress bars read %v bytes, want one of %d", bars, disk.size)
	}
	if !r.keep || r.forceRemove {
		t.Errorf("keep %v, forceRemove %v: want the input artifact kept and not forced", r.keep, r.forceRemove)
	}
	a := r.artifact
	if a.BuilderId() != BuilderID || a.Id() != img.ID || a.State("image_id") != img.ID || a.State("image_name") != "debian-12" ||
		a.State("region") != "RegionOne" || a.String() != fmt.Sprintf("Glance image %q: %s (region RegionOne)", "debian-12", img.ID) || a.Files() != nil {
		t.Errorf("artifact %s: id %s, state %v %v", a, a.Id(), a.State("image_id"), a.State("image_name"))
	}
	// Destroy: a protected image stays, with Glance's reason; unprotected,
	// it goes; gone, Destroy is done.
	if err := a.Destroy(); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("Destroy of a protected image: %v, want Glance's 403", err)
	}
	f.mu.Lock()
	f.images[img.ID].Protected = false
	f.mu.Unlock()
	if err := a.Destroy(); err != nil {
		t.Errorf("Destroy: %v", err)
	}
	f.empty(t)
	if err := a.Destroy(); err != nil {
		t.Errorf("Destroy of a deleted image: %v, want nil", err)
	}
}

// A failed upload (a dropped connection, a 5xx) is tried again: on the
// same record while Glance still has it queued, else on a new one, the
// other deleted. The image in the end holds the whole file, sent again
// from its start.
func TestUploadRetried(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    func(f *fakeCloud, n int, w http.ResponseWriter, r *http.Request, id string) bool
		uploads  int    // PUTs seen
		records  int    // records created
		warnings int    // "trying again" said
		reason   string // in the warnings
	}{
		{"dropped connection", func(_ *fakeCloud, n int, w http.ResponseWriter, r *http.Request, _ string) bool {
			if n == 1 {
				dropConnection(w, r)
			}
			return n == 1
		}, 2, 1, 1, `Upload failed (Put "`},
		{"503 twice", func(_ *fakeCloud, n int, w http.ResponseWriter, r *http.Request, _ string) bool {
			if n <= 2 {
				answer(w, r, http.StatusServiceUnavailable)
			}
			return n <= 2
		}, 3, 1, 2, "got 503 instead"},
		{"500 and the record killed", func(f *fakeCloud, n int, w http.ResponseWriter, r *http.Request, id string) bool {
			if n == 1 {
				f.setStatus(id, "killed")
				answer(w, r, http.StatusInternalServerError)
			}
			return n == 1
		}, 2, 2, 1, "got 500 instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCloud(t)
			f.onUpload = func(n int, w http.ResponseWriter, r *http.Request, id string) bool { return tc.fault(f, n, w, r, id) }
			disk := newDisk(t)
			r := f.run(t, disk)
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.ui)
			}
			img := f.only(t, "debian-12", disk)
			if len(f.all()) != 1 {
				t.Errorf("Glance holds %v, want only the new image", f.names())
			}
			var creates []string
			for _, e := range f.eventLog() {
				if strings.HasPrefix(e, "create ") {
					creates = append(creates, e)
				}
			}
			if f.uploadCount() != tc.uploads || len(creates) != tc.records || creates[len(creates)-1] != "create debian-12 "+img.ID {
				t.Errorf("%d uploads and the records %v; want %d uploads and %d records, the last %s", f.uploadCount(), creates, tc.uploads, tc.records, img.ID)
			}
			if tc.records == 2 && !slices.Contains(f.eventLog(), "delete "+strings.Fields(creates[0])[2]) {
				t.Errorf("the killed record was not deleted: %v", f.eventLog())
			}
			if n := r.ui.count("error", tc.reason); n != tc.warnings || r.ui.count("error", "trying again in") != tc.warnings {
				t.Errorf("the UI said %d times that it tries again, want %d:\n%s", n, tc.warnings, r.ui)
			}
			if r.ui.count("say", "sha512 and md5 match") != 1 {
				t.Errorf("no verification after the retry:\n%s", r.ui)
			}
			if bars := r.ui.progress(); len(bars) != tc.uploads || bars[len(bars)-1] != disk.size {
				t.Errorf("progress bars %v, want %d, the last reading the whole %d bytes", bars, tc.uploads, disk.size)
			}
		})
	}
}

// With the retries used up, the build fails saying how many attempts
// were made and why, and the image record is gone.
func TestUploadRetriesExhausted(t *testing.T) {
	f := newFakeCloud(t)
	f.onUpload = func(_ int, w http.ResponseWriter, r *http.Request, _ string) bool {
		answer(w, r, http.StatusBadGateway)
		return true
	}
	r := f.run(t, newDisk(t), "retries", 2)
	if r.err == nil {
		t.Fatalf("the build succeeded against a Glance that always fails:\n%s", r.ui)
	}
	for _, want := range []string{"uploading (attempt 3 of 3)", "502", "the image record is deleted"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q does not say %q", r.err, want)
		}
	}
	if f.uploadCount() != 3 || r.ui.count("error", "trying again") != 2 {
		t.Errorf("%d uploads, %d retries said; want 3 and 2:\n%s", f.uploadCount(), r.ui.count("error", "trying again"), r.ui)
	}
	if r.artifact != nil {
		t.Errorf("an artifact from a failed build: %v", r.artifact)
	}
	f.empty(t)
}

// A client error (here 413, the image too large for the store) is not
// tried again: one attempt, the record deleted.
func TestUploadClientErrorNotRetried(t *testing.T) {
	f := newFakeCloud(t)
	f.onUpload = func(_ int, w http.ResponseWriter, r *http.Request, _ string) bool {
		answer(w, r, http.StatusRequestEntityTooLarge)
		return true
	}
	r := f.run(t, newDisk(t))
	if r.err == nil || !strings.Contains(r.err.Error(), "attempt 1 of 4") || !strings.Contains(r.err.Error(), "413") {
		t.Errorf("error %v, want the first of 4 attempts failing with 413", r.err)
	}
	if f.uploadCount() != 1 || r.ui.count("error", "trying again") != 0 {
		t.Errorf("%d uploads, want 1 and no retry:\n%s", f.uploadCount(), r.ui)
	}
	f.empty(t)
}

// An image that goes queued, saving, then active is waited for.
func TestWaitForActive(t *testing.T) {
	f := newFakeCloud(t)
	f.afterUpload = []string{"queued", "saving", "active"}
	disk := newDisk(t)
	r := f.run(t, disk)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.ui)
	}
	img := f.only(t, "debian-12", disk)
	if got := f.polledOf(img.ID); !slices.Equal(got, []string{"queued", "saving", "active"}) {
		t.Errorf("the statuses polled: %v, want queued, saving, active", got)
	}
	if r.ui.count("say", "Image "+img.ID+" is active") != 1 {
		t.Errorf("the UI did not say the image is active:\n%s", r.ui)
	}
}

// Glance holding other data than was sent (its sha512 or its md5 not the
// file's) fails the build, naming the hash, and the image is deleted.
func TestHashMismatch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mangle func(*fakeImage)
		want   string
	}{
		{"os_hash_value", func(img *fakeImage) { img.HashValue = strings.Repeat("0", 128) }, "os_hash_value (sha512) " + strings.Repeat("0", 128) + ", sent "},
		{"checksum", func(img *fakeImage) { img.Checksum = strings.Repeat("0", 32) }, "checksum (md5) " + strings.Repeat("0", 32) + ", sent "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCloud(t)
			f.mangle = tc.mangle
			disk := newDisk(t)
			r := f.run(t, disk)
			if r.err == nil {
				t.Fatalf("the build succeeded with a mismatched %s:\n%s", tc.name, r.ui)
			}
			sent := disk.sha512
			if tc.name == "checksum" {
				sent = disk.md5
			}
			for _, want := range []string{"Glance holds other data than was sent", tc.want + sent, "the image is deleted"} {
				if !strings.Contains(r.err.Error(), want) {
					t.Errorf("error %q does not say %q", r.err, want)
				}
			}
			if r.ui.count("say", "md5 match") != 0 {
				t.Errorf("the UI said the hashes match:\n%s", r.ui)
			}
			f.empty(t)
		})
	}
}

// An image of the name in another project is no conflict: the images the
// post-processor compares with are its project's.
func TestOtherProjectsImageIsNoConflict(t *testing.T) {
	f := newFakeCloud(t)
	theirs := f.seed(fakeImage{Name: "debian-12", Owner: "project-2", Visibility: "public"})
	disk := newDisk(t)
	r := f.run(t, disk)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.ui)
	}
	f.only(t, "debian-12", disk)
	if len(f.all()) != 2 || !slices.ContainsFunc(f.all(), func(img fakeImage) bool { return img.ID == theirs.ID }) {
		t.Errorf("Glance holds %v, want the other project's image kept besides the new one", f.names())
	}
}

// Each on_conflict value, against an active image of the name in the
// project.
func TestOnConflict(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	setup := func(t *testing.T, old fakeImage) (*fakeCloud, testDisk) {
		f := newFakeCloud(t)
		old.ID, old.Name, old.CreatedAt = "old", "debian-12", created
		f.seed(old)
		return f, newDisk(t)
	}
	t.Run("error", func(t *testing.T) {
		f, disk := setup(t, fakeImage{})
		r := f.run(t, disk)
		if r.err == nil || !strings.Contains(r.err.Error(), `an image named "debian-12" exists in the project (old)`) || !strings.Contains(r.err.Error(), "on_conflict") {
			t.Errorf("error %v, want one naming the image and on_conflict", r.err)
		}
		if names := f.names(); !slices.Equal(names, []string{"debian-12 (active)"}) || f.all()[0].ID != "old" || f.uploadCount() != 0 {
			t.Errorf("Glance holds %v after %d uploads, want the old image alone and nothing uploaded", names, f.uploadCount())
		}
	})
	t.Run("keep", func(t *testing.T) {
		f, disk := setup(t, fakeImage{})
		r := f.run(t, disk, "on_conflict", "keep")
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.ui)
		}
		if r.artifact.Id() != "old" || r.artifact.State("image_name") != "debian-12" {
			t.Errorf("the artifact is %s, want the existing image old", r.artifact)
		}
		if len(f.all()) != 1 || f.uploadCount() != 0 || len(f.eventLog()) != 0 {
			t.Errorf("Glance holds %v after %v, want the old image, untouched", f.names(), f.eventLog())
		}
		if r.ui.count("say", `Image "debian-12" exists (old): kept, nothing uploaded`) != 1 {
			t.Errorf("the UI did not say the image is kept:\n%s", r.ui)
		}
	})
	t.Run("replace", func(t *testing.T) {
		f, disk := setup(t, fakeImage{})
		r := f.run(t, disk, "on_conflict", "replace")
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.ui)
		}
		img := f.only(t, "debian-12", disk)
		if img.ID == "old" || len(f.all()) != 1 {
			t.Errorf("Glance holds %v, want the new image alone", f.names())
		}
		if ev := f.eventLog(); !before(ev, "active "+img.ID, "delete old") {
			t.Errorf("events %v: want the new image active before the old one deleted", ev)
		}
		if r.artifact.Id() != img.ID || r.ui.count("say", "Deleting the image it replaces, old") != 1 {
			t.Errorf("artifact %s; UI:\n%s", r.artifact, r.ui)
		}
	})
	t.Run("replace a protected image", func(t *testing.T) {
		f, disk := setup(t, fakeImage{Protected: true})
		r := f.run(t, disk, "on_conflict", "replace")
		if r.err != nil {
			t.Fatalf("the new image is good, yet the build failed: %v\n%s", r.err, r.ui)
		}
		if names := f.names(); !slices.Equal(names, []string{"debian-12 (active)", "debian-12 (active)"}) {
			t.Errorf("Glance holds %v, want the protected old image and the new one", names)
		}
		if r.ui.count("error", "Warning: on_conflict = replace: could not delete old (protected?)") != 1 {
			t.Errorf("no warning about the protected image:\n%s", r.ui)
		}
	})
	t.Run("rename", func(t *testing.T) {
		f, disk := setup(t, fakeImage{})
		r := f.run(t, disk, "on_conflict", "rename")
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.ui)
		}
		img := f.only(t, "debian-12", disk)
		renamed := "debian-12-20240102T030405Z"
		if names := f.names(); !slices.Equal(names, []string{renamed + " (active)", "debian-12 (active)"}) || f.all()[0].ID != "old" {
			t.Errorf("Glance holds %v, want the old image as %s and the new one", names, renamed)
		}
		if ev := f.eventLog(); !before(ev, "active "+img.ID, "rename old "+renamed) {
			t.Errorf("events %v: want the new image active before the old one renamed", ev)
		}
		if r.ui.count("say", `Renaming the image old to "`+renamed+`"`) != 1 {
			t.Errorf("the UI did not say the renaming:\n%s", r.ui)
		}
	})
}

// keep_releases with on_conflict = "rename": the new image and the newest
// renamed ones are kept, older ones deleted, protected ones kept with a
// warning; images of other names or projects are not touched.
func TestKeepReleases(t *testing.T) {
	f := newFakeCloud(t)
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	f.seed(fakeImage{ID: "r1", Name: "debian-12-20240101T000000Z", CreatedAt: day(1)})
	f.seed(fakeImage{ID: "r2", Name: "debian-12-20240102T000000Z", CreatedAt: day(2), Protected: true})
	f.seed(fakeImage{ID: "r3", Name: "debian-12-20240103T000000Z", CreatedAt: day(3)})
	f.seed(fakeImage{ID: "current", Name: "debian-12", CreatedAt: day(4)})
	f.seed(fakeImage{ID: "other-name", Name: "debian-12-slim", CreatedAt: day(1)})
	f.seed(fakeImage{ID: "other-project", Name: "debian-12-20231231T000000Z", CreatedAt: day(1), Owner: "project-2"})
	disk := newDisk(t)
	r := f.run(t, disk, "on_conflict", "rename", "keep_releases", 2)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.ui)
	}
	img := f.only(t, "debian-12", disk)
	left := f.ids()
	want := []string{
		"r2 debian-12-20240102T000000Z", "current debian-12-20240104T000000Z",
		"other-name debian-12-slim", "other-project debian-12-20231231T000000Z", img.ID + " debian-12",
	}
	if !slices.Equal(left, want) {
		t.Errorf("Glance holds\n%s\nwant\n%s", strings.Join(left, "\n"), strings.Join(want, "\n"))
	}
	if r.ui.count("error", "Warning: keep_releases: debian-12-20240102T000000Z (r2) is protected: kept") != 1 {
		t.Errorf("no warning about the protected release:\n%s", r.ui)
	}
	if r.ui.count("say", "keep_releases = 2: deleting debian-12-20240101T000000Z (r1, 2024-01-01T00:00:00Z)") != 1 ||
		r.ui.count("say", "keep_releases = 2: deleting debian-12-20240103T000000Z (r3, 2024-01-03T00:00:00Z)") != 1 {
		t.Errorf("the UI did not name the releases deleted:\n%s", r.ui)
	}
	if ev := f.eventLog(); !before(ev, "active "+img.ID, "delete r1") || !before(ev, "rename current debian-12-20240104T000000Z", "delete r1") {
		t.Errorf("events %v: want the deletions after the new image is active and the old one renamed", ev)
	}
}

// glance-direct stages the data, then asks Glance to import it into the
// stores named.
func TestGlanceDirect(t *testing.T) {
	f := newFakeCloud(t)
	disk := newDisk(t)
	r := f.run(t, disk, "import_method", "glance-direct", "stores", []string{"local"})
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.ui)
	}
	img := f.only(t, "debian-12", disk)
	if img.Props["stores"] != "local" || f.uploadCount() != 0 || !before(f.eventLog(), "stage "+img.ID, "import "+img.ID) {
		t.Errorf("stores %q, %d direct uploads, events %v: want staged, then imported into local", img.Props["stores"], f.uploadCount(), f.eventLog())
	}
	if len(f.imports) != 1 || fmt.Sprint(f.imports[0]["method"].(map[string]any)["name"]) != "glance-direct" || fmt.Sprint(f.imports[0]["stores"]) != "[local]" {
		t.Errorf("the import requests: %v, want one of glance-direct into [local]", f.imports)
	}
	if r.ui.count("say", "(glance-direct)") != 1 || r.ui.count("say", "sha512 and md5 match") != 1 {
		t.Errorf("UI:\n%s", r.ui)
	}
}

// Credentials Keystone refuses fail the build before any image exists,
// saying where it authenticated.
func TestKeystoneRefuses(t *testing.T) {
	f := newFakeCloud(t)
	r := f.run(t, newDisk(t), "password", "wrong")
	if r.err == nil || !strings.Contains(r.err.Error(), "authenticating with Keystone at "+f.srv.URL+"/v3") {
		t.Errorf("error %v, want one naming Keystone's URL", r.err)
	}
	f.empty(t)
}

// The success line says which hashes were compared: os_hash_value when
// Glance's os_hash_algo is sha512 (hashed during the upload) or one of
// otherHashes (hashed after it), and the md5 checksum. A hash of another algorithm is said not compared; an
// image with nothing to compare fails the build and is deleted.
func TestHashesCompared(t *testing.T) {
	zeros := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name   string
		mangle func(img *fakeImage, disk testDisk)
		said   string // the success line's end; "" for a failure
		err    string
	}{
		{"sha512 and md5", func(*fakeImage, testDisk) {}, "sha512 and md5 match", ""},
		{"sha256 and md5", func(img *fakeImage, d testDisk) { img.HashAlgo, img.HashValue = "sha256", d.sha256 }, "sha256 and md5 match", ""},
		{"sha256 differs", func(img *fakeImage, d testDisk) { img.HashAlgo, img.HashValue = "sha256", zeros }, "",
			"os_hash_value (sha256) " + zeros + ", sent "},
		{"sha384, hashed after the upload", func(img *fakeImage, d testDisk) { img.HashAlgo, img.HashValue = "sha384", fileSHA384(t, d.path) },
			"sha384 and md5 match", ""},
		{"sha384 differs", func(img *fakeImage, d testDisk) { img.HashAlgo, img.HashValue = "sha384", zeros+zeros[:32] }, "",
			"os_hash_value (sha384) " + zeros + zeros[:32] + ", sent "},
		{"sha3_512, not computed", func(img *fakeImage, d testDisk) { img.HashAlgo, img.HashValue = "sha3_512", zeros+zeros },
			"md5 matches (Glance gave os_hash_algo sha3_512, not compared)", ""},
		{"no os_hash_value", func(img *fakeImage, d testDisk) { img.HashAlgo, img.HashValue = "", "" },
			"md5 matches (Glance gave no os_hash_value)", ""},
		{"no checksum", func(img *fakeImage, d testDisk) { img.Checksum = "" }, "sha512 matches (Glance gave no checksum)", ""},
		{"no hash at all", func(img *fakeImage, d testDisk) { img.Checksum, img.HashAlgo, img.HashValue = "", "", "" }, "",
			"Glance gave no hash of image"},
		{"only a hash not computed", func(img *fakeImage, d testDisk) { img.Checksum, img.HashAlgo = "", "sha3_512" }, "",
			"Glance gave os_hash_algo sha3_512, not compared; Glance gave no checksum): the upload is not verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCloud(t)
			disk := newDisk(t)
			f.mangle = func(img *fakeImage) { tc.mangle(img, disk) }
			r := f.run(t, disk)
			if tc.err != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tc.err) || !strings.Contains(r.err.Error(), "the image is deleted") {
					t.Errorf("error %v, want one saying %q and that the image is deleted", r.err, tc.err)
				}
				if r.ui.count("say", "match") != 0 {
					t.Errorf("the UI said something matches:\n%s", r.ui)
				}
				f.empty(t)
				return
			}
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.ui)
			}
			if r.ui.count("say", "is active: ") != 1 || r.ui.count("say", "), "+tc.said) != 1 && r.ui.count("say", "/s), "+tc.said) != 1 {
				t.Errorf("the UI did not end the success line with %q:\n%s", tc.said, r.ui)
			}
			if tc.said != "sha512 and md5 match" && r.ui.count("say", "sha512 and md5 match") != 0 {
				t.Errorf("the UI claims sha512 and md5 were compared:\n%s", r.ui)
			}
		})
	}
}

// fileSHA384 is the hex sha384 of the file at path.
func fileSHA384(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum384(data)
	return hex.EncodeToString(sum[:])
}
