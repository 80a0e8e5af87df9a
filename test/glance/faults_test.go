package glance_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// faultProxy sits on loopback in front of the real Glance and spoils the
// first image upload (PUT .../file) in one way, the image's reported
// hash, or the first image deletion: the faults the real Glance cannot be
// made to produce.
type faultProxy struct {
	fault   string // drop, 503, 401, hash, delete
	mu      sync.Mutex
	puts    []int64  // the Content-Length of each upload seen
	deletes []string // the paths of the DELETE requests seen
}

func (p *faultProxy) start(t *testing.T, glance string) string {
	t.Helper()
	target, err := url.Parse(glance)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		if p.fault != "hash" || resp.Request.Method != http.MethodGet || !strings.Contains(resp.Request.URL.Path, "/v2/images/") {
			return nil
		}
		var img map[string]any
		body, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(body, &img) == nil && img["os_hash_value"] != nil {
			img["os_hash_value"] = strings.Repeat("0", 128)
			body, _ = json.Marshal(img)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/v2/images/") {
			p.mu.Lock()
			p.deletes = append(p.deletes, r.URL.Path)
			first := len(p.deletes) == 1
			p.mu.Unlock()
			if first && p.fault == "delete" {
				http.Error(w, "Internal Server Error (the fault proxy)", http.StatusInternalServerError)
				return
			}
		}
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/file") {
			p.mu.Lock()
			p.puts = append(p.puts, r.ContentLength)
			first := len(p.puts) == 1
			p.mu.Unlock()
			if first {
				// The upload is read and dropped: a failed read only means
				// the client is gone, and the test sees what it did then.
				switch p.fault {
				case "503":
					_, _ = io.Copy(io.Discard, r.Body)
					http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
					return
				case "401":
					_, _ = io.Copy(io.Discard, r.Body)
					http.Error(w, `{"error": {"code": 401, "message": "The request you have made requires authentication."}}`, http.StatusUnauthorized)
					return
				case "drop":
					// Read a part of the data, then cut the connection.
					_, _ = io.CopyN(io.Discard, r.Body, 1<<20)
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						// Linger 0: the close is a reset, not an orderly end.
						if err := conn.(*net.TCPConn).SetLinger(0); err != nil {
							t.Errorf("fault proxy: %v", err)
						}
						conn.Close()
					}
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The upload survives a connection dropped mid-way, a 503, and a 401 (a
// re-authentication, the body rewound); a reported hash that differs
// fails the build and deletes the image, saying why.
func TestUploadFaults(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_GLANCE_URL")
	c, prefix, dir, file, sum := setup(t, "fault", 16)
	for _, fault := range []string{"drop", "503", "401", "hash"} {
		t.Run(fault, func(t *testing.T) {
			p := &faultProxy{fault: fault}
			proxy := p.start(t, env[0])
			name := prefix + "-" + fault
			out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf("cloud = \"cloudimage-admin\"\nimage_name = %q\nendpoint_override = %q", name, proxy)))
			got := c.named(t, name)
			if fault == "hash" {
				if err == nil || !strings.Contains(out, "os_hash_value") || !strings.Contains(out, "the image is deleted") {
					t.Errorf("want a failure naming os_hash_value, got %v:\n%s", err, out)
				}
				if len(got) != 0 {
					t.Errorf("left in Glance: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			uploaded := c.active(t, name, sum)
			p.mu.Lock()
			defer p.mu.Unlock()
			size := fileSize(t, file)
			if len(p.puts) != 2 || p.puts[0] != size || p.puts[1] != size {
				t.Errorf("uploads seen: %v, want 2 of Content-Length %d", p.puts, size)
			}
			// Nothing else of that name, in any status.
			all := c.named(t, "")
			for _, img := range all {
				if strings.HasPrefix(img.Name, name) && img.ID != uploaded.ID {
					t.Errorf("another image left: %s %s", img.ID, img.Status)
				}
			}
		})
	}
}

// on_conflict = "rename" with keep_releases, against the real Glance: a
// failure after the old image was renamed (here the rotation's deletion
// of it, refused through the proxy) deletes the new image and gives the
// old one its name back.
func TestRenameUndoneOnFailure(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_GLANCE_URL")
	c, name, dir, file, sum := setup(t, "undo", 2)
	out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf("cloud = \"cloudimage-admin\"\nimage_name = %q", name)))
	if err != nil {
		t.Fatalf("first build: %v\n%s", err, out)
	}
	old := c.active(t, name, sum)

	p := &faultProxy{fault: "delete"}
	proxy := p.start(t, env[0])
	out, err = packer(t, dir, template(t, dir, file, fmt.Sprintf(`
      cloud             = "cloudimage-admin"
      image_name        = %q
      endpoint_override = %q
      on_conflict       = "rename"
      keep_releases     = 1
`, name, proxy)))
	if err == nil {
		t.Fatalf("the build succeeded though the rotation's deletion failed:\n%s", out)
	}
	renamed := name + "-" + old.CreatedAt.UTC().Format("20060102T150405Z")
	for _, want := range []string{
		fmt.Sprintf("Renaming the image %s to %q", old.ID, renamed),
		"keep_releases: deleting " + old.ID,
		fmt.Sprintf("Renaming the image %s back to %q", old.ID, name),
		fmt.Sprintf("%s is named %q again", old.ID, name),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	if got := c.active(t, name, sum); got.ID != old.ID {
		t.Errorf("the image named %s is %s, want the old one, %s", name, got.ID, old.ID)
	}
	for _, img := range c.named(t, "") {
		if strings.HasPrefix(img.Name, name) && img.ID != old.ID {
			t.Errorf("left in Glance: %s %s (%s)", img.ID, img.Name, img.Status)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.deletes) != 2 || !strings.HasSuffix(p.deletes[0], "/"+old.ID) || strings.HasSuffix(p.deletes[1], "/"+old.ID) {
		t.Errorf("deletions seen: %v, want the old image's (refused), then the new image's", p.deletes)
	}
}
