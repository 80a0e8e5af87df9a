package glance

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"sync"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// body is the image file as the upload's request body: read in place,
// never held in memory; hashed as it is read; shown as a progress bar; and
// seekable, so that gophercloud's re-authentication after a 401, and a
// retry, can rewind it.
//
// Each time the file is sent is an attempt of its own (its own offset,
// hashes and progress bar), and starting one ends the one before: the HTTP
// transport may go on reading a request's body after RoundTrip has
// returned (net/http says so), and such a late read must neither move the
// next attempt's offset nor feed its hashes.
type body struct {
	f    *os.File
	size int64
	name string
	ui   packersdk.Ui

	mu   sync.Mutex
	last *attempt // the newest attempt: the one whose hashes count
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
	return &body{f: f, size: st.Size(), name: st.Name(), ui: ui}, nil
}

// next ends the newest attempt and starts another, from the file's start.
// lengthTransport gives each HTTP request its own.
func (b *body) next() *attempt {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != nil {
		b.last.end()
	}
	b.last = newAttempt(b)
	return b.last
}

// rewind ends the newest attempt: the next read or request starts again
// from the file's start, with new hashes and a new progress bar. It comes
// back once a read of that attempt in flight is over.
func (b *body) rewind() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != nil {
		b.last.end()
	}
}

// Read reads the newest attempt, starting one when there is none: for a
// reader that is no HTTP request (web-download hashes the file itself).
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	a := b.last
	b.mu.Unlock()
	if a == nil || a.over() {
		a = b.next()
	}
	return a.Read(p)
}

// Seek supports what the retries need: back to the start.
func (b *body) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, os.ErrInvalid
	}
	b.rewind()
	return 0, nil
}

// Close does nothing: net/http closes a request's body after each attempt,
// and a retry sends this one again. finish closes the file.
func (b *body) Close() error { return nil }

func (b *body) finish() {
	b.rewind()
	b.f.Close()
}

// sums are the hashes of the newest attempt, which must have read the
// whole file: it is what Glance got. algo is Glance's os_hash_algo: the
// upload hashes with sha512, Glance's default, and a Glance set to another
// algorithm Go has (sha256, sha384, sha224, sha512_224, sha512_256) gets
// its hash from a second read of the file, here, rather than every upload
// paying for a hash it rarely needs.
func (b *body) sums(algo string) (sums, error) {
	b.mu.Lock()
	a := b.last
	b.mu.Unlock()
	if a == nil {
		return sums{}, fmt.Errorf("%s was not read", b.name)
	}
	a.end()
	if a.n != b.size {
		return sums{}, fmt.Errorf("the upload read %d of the %d bytes of %s", a.n, b.size, b.name)
	}
	s := sums{md5: hex.EncodeToString(a.md5.Sum(nil)), sha2: map[string]string{"sha512": hex.EncodeToString(a.sha512.Sum(nil))}}
	if h, ok := otherHashes[algo]; ok {
		sum, err := b.hash(h())
		if err != nil {
			return sums{}, fmt.Errorf("hashing %s with %s, Glance's os_hash_algo: %w", b.name, algo, err)
		}
		s.sha2[algo] = sum
	}
	return s, nil
}

// otherHashes are the os_hash_algo values besides sha512 that sums can
// compare, by their names in Glance (Python's hashlib).
var otherHashes = map[string]func() hash.Hash{
	"sha224":     sha256.New224,
	"sha256":     sha256.New,
	"sha384":     sha512.New384,
	"sha512_224": sha512.New512_224,
	"sha512_256": sha512.New512_256,
}

// hash is h's sum of the whole file.
func (b *body) hash(h hash.Hash) (string, error) {
	if _, err := io.Copy(h, io.NewSectionReader(b.f, 0, b.size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sums are the hex hashes of what was sent: md5 (Glance's checksum) and
// the os_hash_algo values it can be compared with, by algorithm.
type sums struct {
	md5  string
	sha2 map[string]string
}

// errAttemptOver is what a late read of an attempt gets: another attempt
// has started, or the upload is over.
var errAttemptOver = errors.New("this upload attempt is over: the file is being sent again")

// attempt is one sending of the file, from its start.
type attempt struct {
	mu          sync.Mutex // held by a read, so that end waits for it
	ended       bool
	n           int64 // bytes read
	md5, sha512 hash.Hash
	hashing     *hashers
	progress    io.ReadCloser // the file through the UI's progress bar
	cur         *block        // the block being served, nil before the first
	off         int           // how much of cur was served
	err         error         // what ended the file's reading (io.EOF at its end)
}

func newAttempt(b *body) *attempt {
	a := &attempt{md5: md5.New(), sha512: sha512.New()}
	a.hashing = newHashers(a.md5, a.sha512)
	// Its own offset in the file: ReadAt, which a late read of an earlier
	// attempt cannot move.
	file := io.NopCloser(io.NewSectionReader(b.f, 0, b.size))
	a.progress = b.ui.TrackProgress(b.name, 0, b.size, file)
	return a
}

// Read holds the attempt's lock: a disk read and a progress update, never
// the network, so end waits little. It reads the file a block at a time
// (hashers.read) and serves it from that block: the bytes are copied once,
// into p, and hashed from the block.
func (a *attempt) Read(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return 0, errAttemptOver
	}
	if a.cur == nil || a.off == len(a.cur.data) {
		if a.err != nil {
			return 0, a.err
		}
		if a.cur != nil {
			a.cur.release()
		}
		a.cur, a.err = a.hashing.read(a.progress)
		a.off = 0
		if len(a.cur.data) == 0 {
			return 0, a.err
		}
	}
	n := copy(p, a.cur.data[a.off:])
	a.off += n
	a.n += int64(n)
	return n, nil
}

// Close ends the attempt: the transport is done with it.
func (a *attempt) Close() error {
	a.end()
	return nil
}

// end waits for a read in flight, then refuses the next ones and closes
// the progress bar.
func (a *attempt) end() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ended {
		a.ended = true
		if a.cur != nil {
			a.cur.release()
		}
		a.hashing.close()
		a.progress.Close()
	}
}

func (a *attempt) over() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ended
}

// lengthTransport sends an upload body with its Content-Length (net/http
// knows the length of in-memory readers only, and would send this one
// chunked), each request with an attempt of its own.
type lengthTransport struct{ next http.RoundTripper }

func (t lengthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if b, ok := req.Body.(*body); ok {
		req = req.Clone(req.Context())
		req.Body = b.next()
		req.ContentLength = b.size
	}
	return t.next.RoundTrip(req)
}
