package glance

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// The hashes computed beside the upload are those of every byte, in
// order, whatever the sizes of the reads the HTTP client makes, and each
// byte reaches the reader once.
func TestBodyHashesEveryByte(t *testing.T) {
	data := make([]byte, 3*hashBlock+12345)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	b := testBody(t, data)
	var got []byte
	for size := 1; ; size = size*3 + 7 {
		p := make([]byte, min(size, 5*hashBlock))
		n, err := b.Read(p)
		got = append(got, p[:n]...)
		for i := range p { // the caller reuses its buffer at once
			p[i] = 0
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the file's %d", len(got), len(data))
	}
	s, err := b.sums("sha512")
	if err != nil {
		t.Fatal(err)
	}
	wantM, wantS := md5.Sum(data), sha512.Sum512(data)
	if s.md5 != hex.EncodeToString(wantM[:]) || s.sha2["sha512"] != hex.EncodeToString(wantS[:]) || len(s.sha2) != 1 {
		t.Errorf("sums %+v are not the data's md5 and sha512", s)
	}
}

// testBody is data in a file, opened as an upload body (finished at the
// test's end), with a UI that shows nothing.
func testBody(t *testing.T, data []byte) *body {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := openBody(path, quietUi())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.finish)
	return b
}

func quietUi() packersdk.Ui {
	return &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: io.Discard, ErrorWriter: io.Discard, PB: &packersdk.NoopProgressTracker{}}
}

// BenchmarkBodyRead reads a file through the upload body as the HTTP
// client does (32 KiB at a time), hashes and all: the rate the plugin can
// feed Glance at. go test -bench BodyRead ./post-processor/glance/
func BenchmarkBodyRead(b *testing.B) {
	const size = 256 << 20
	path := filepath.Join(b.TempDir(), "disk.raw")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	ui := quietUi()
	buf := make([]byte, 32<<10)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		body, err := openBody(path, ui)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{body}, buf); err != nil {
			b.Fatal(err)
		}
		if _, err := body.sums("sha512"); err != nil {
			b.Fatal(err)
		}
		body.finish()
	}
}
