package glance

import (
	"bufio"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"os"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// body is the image file as the upload's request body: read in place,
// never held in memory; hashed as it is read (sha512 and md5, Glance's
// os_hash_value and checksum); shown as a progress bar; and seekable, so
// that gophercloud's re-authentication after a 401, and a retry, can rewind
// it.
type body struct {
	f        *os.File
	size     int64
	name     string
	ui       packersdk.Ui
	sha, md  hash.Hash
	progress io.ReadCloser // the file through the UI's progress bar
	// reader reads progress 1 MiB at a time: in a plugin each read of the
	// progress bar's stream is a call to Packer, and the HTTP client reads
	// a few KiB at a time.
	reader *bufio.Reader
}

func openBody(path string, ui packersdk.Ui) (*body, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	b := &body{f: f, size: st.Size(), name: st.Name(), ui: ui}
	b.rewind()
	return b, nil
}

// rewind starts the file, its hashes and its progress bar again.
func (b *body) rewind() error {
	if b.progress != nil {
		b.progress.Close()
	}
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	b.sha, b.md = sha512.New(), md5.New()
	b.progress = b.ui.TrackProgress(b.name, 0, b.size, io.NopCloser(b.f))
	b.reader = bufio.NewReaderSize(b.progress, 1<<20)
	return nil
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.reader.Read(p)
	b.sha.Write(p[:n])
	b.md.Write(p[:n])
	return n, err
}

// Seek supports what the retries need: back to the start.
func (b *body) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, os.ErrInvalid
	}
	return 0, b.rewind()
}

// Close does nothing: net/http closes a request's body after each attempt,
// and a retry sends this one again. finish closes the file.
func (b *body) Close() error { return nil }

func (b *body) finish() {
	if b.progress != nil {
		b.progress.Close()
	}
	b.f.Close()
}

// sums are the hex sha512 and md5 of what was read since the last rewind.
func (b *body) sums() (sha512sum, md5sum string) {
	return hex.EncodeToString(b.sha.Sum(nil)), hex.EncodeToString(b.md.Sum(nil))
}

// lengthTransport sends an upload body with its Content-Length: net/http
// knows the length of in-memory readers only, and would send this one
// chunked.
type lengthTransport struct{ next http.RoundTripper }

func (t lengthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if b, ok := req.Body.(*body); ok {
		req = req.Clone(req.Context())
		req.ContentLength = b.size
	}
	return t.next.RoundTrip(req)
}
