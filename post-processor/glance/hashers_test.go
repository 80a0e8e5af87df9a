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

// The HTTP transport may read a request's body after RoundTrip returned
// (net/http says so), or still be in a sendfile of it. Such a late read of
// an attempt that another has replaced gets an error, and its descriptor
// is no longer handed out; the new attempt sends the whole file from its
// start, and the hashes are the file's. Run with -race.
func TestLateReadOfAnEndedAttempt(t *testing.T) {
	data := make([]byte, 2*hashBlock+999)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	b := testBody(t, data)
	first, err := b.next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	second, err := b.next()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := first.Read(make([]byte, 10)); n != 0 || err != errAttemptOver {
		t.Errorf("a late read of the first attempt got %d bytes, %v; want 0, %v", n, err, errAttemptOver)
	}
	if _, err := first.SyscallConn(); err != errAttemptOver {
		t.Errorf("the first attempt still hands out its descriptor: %v", err)
	}
	got, err := io.ReadAll(second)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the second attempt read %d bytes (%v), not the file's %d", len(got), err, len(data))
	}
	s, err := b.sums("sha512")
	if err != nil {
		t.Fatal(err)
	}
	if want := md5.Sum(data); s.md5 != hex.EncodeToString(want[:]) {
		t.Errorf("md5 %s is not the file's", s.md5)
	}
}

// An attempt that did not send the whole file is no upload to verify.
func TestSumsOfAShortAttempt(t *testing.T) {
	b := testBody(t, make([]byte, 3*hashBlock))
	a, err := b.next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(a, make([]byte, hashBlock)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.sums("sha512"); err == nil || !strings.Contains(err.Error(), "sent 1048576 of the 3145728 bytes") {
		t.Errorf("sums of a third of the file: %v", err)
	}
}
