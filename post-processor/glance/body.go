package glance

import (
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
	"syscall"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// body is the image file as the upload's request body: never held in
// memory; sent by sendfile(2) where the HTTP transport can (Go's net
// package does it for a body that is a syscall.Conn), so the bytes go from
// the page cache to the socket without a copy through the plugin; hashed
// beside the upload from reads of its own (hashes.go); shown as a progress
// bar; and seekable, so that gophercloud's re-authentication after a 401,
// and a retry, can rewind it.
//
// Each time the file is sent is an attempt of its own, on a descriptor of
// its own (its own offset) with its own progress bar, and starting one
// ends the one before: the HTTP transport may go on reading a request's
// body after RoundTrip has returned (net/http says so), and such a late
// read must not move the next attempt's offset.
type body struct {
	path string
	size int64
	name string
	ui   packersdk.Ui

	hashes *fileHashes // md5 and sha512 of the file, from the first attempt on

	mu   sync.Mutex
	last *attempt // the newest attempt: the one that counts
}

func openBody(path string, ui packersdk.Ui) (*body, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return &body{path: path, size: st.Size(), name: st.Name(), ui: ui}, nil
}

// next ends the newest attempt and starts another, from the file's start;
// the first one starts the hashes. lengthTransport gives each HTTP
// request its own.
func (b *body) next() (*attempt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != nil {
		b.last.end()
		b.last = nil
	}
	if b.hashes == nil {
		h, err := hashFile(b.path, b.size)
		if err != nil {
			return nil, err
		}
		b.hashes = h
	}
	a, err := newAttempt(b)
	if err != nil {
		return nil, err
	}
	b.last = a
	return a, nil
}

// rewind ends the newest attempt: the next read or request starts again
// from the file's start, with a new progress bar. It comes back once a
// read of that attempt in flight is over.
func (b *body) rewind() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != nil {
		b.last.end()
	}
}

// Read reads the newest attempt, starting one when there is none: for a
// reader that is no HTTP request of lengthTransport's.
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	a := b.last
	b.mu.Unlock()
	if a == nil || a.over() {
		var err error
		if a, err = b.next(); err != nil {
			return 0, err
		}
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
// and a retry sends this one again. finish ends it.
func (b *body) Close() error { return nil }

// finish ends the newest attempt and stops the hashes.
func (b *body) finish() {
	b.rewind()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hashes != nil {
		b.hashes.stop()
	}
}

// sums are the hashes of the file, which the newest attempt must have sent
// whole. algo is Glance's os_hash_algo: the upload hashes with sha512,
// Glance's default, and a Glance set to another algorithm Go has (sha256,
// sha384, sha224, sha512_224, sha512_256) gets its hash from another read
// of the file, here, rather than every upload paying for a hash it rarely
// needs.
func (b *body) sums(algo string) (sums, error) {
	b.mu.Lock()
	a, h := b.last, b.hashes
	b.mu.Unlock()
	if a == nil || h == nil {
		return sums{}, fmt.Errorf("%s was not read", b.name)
	}
	a.end()
	if a.sent != b.size {
		return sums{}, fmt.Errorf("the upload sent %d of the %d bytes of %s", a.sent, b.size, b.name)
	}
	s, err := h.sums()
	if err != nil {
		return sums{}, fmt.Errorf("hashing %s: %w", b.name, err)
	}
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
	f, err := os.Open(b.path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, io.LimitReader(f, b.size)); err != nil {
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

// progressEvery is how often an attempt's progress bar catches up with the
// bytes sent.
const progressEvery = 100 * time.Millisecond

// attempt is one sending of the file, from its start, on a descriptor of
// its own. What was sent is the descriptor's offset, which both its reads
// and sendfile move; a goroutine shows it on the progress bar.
type attempt struct {
	f    *os.File
	size int64

	mu    sync.Mutex // held by a read, so that end waits for it
	ended bool
	sent  int64 // the offset when the attempt ended

	bar   io.ReadCloser // the UI's progress bar, over a stream that only counts
	shown int64         // the bytes the bar was told of
	stop  chan struct{}
	done  chan struct{}
}

func newAttempt(b *body) (*attempt, error) {
	f, err := os.Open(b.path)
	if err != nil {
		return nil, err
	}
	a := &attempt{f: f, size: b.size, stop: make(chan struct{}), done: make(chan struct{})}
	a.bar = b.ui.TrackProgress(b.name, 0, b.size, counter{})
	go a.showProgress()
	return a, nil
}

// Read reads the file; it holds the attempt's lock (a disk read, never the
// network), so end waits little.
func (a *attempt) Read(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return 0, errAttemptOver
	}
	// Never past the size the request announced.
	pos, err := a.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if pos >= a.size {
		return 0, io.EOF
	}
	return a.f.Read(p[:min(int64(len(p)), a.size-pos)])
}

// SyscallConn gives the HTTP transport the file's descriptor, for
// sendfile(2); an attempt that is over has none. A sendfile in flight when
// the attempt ends goes on, on this attempt's own descriptor, which closes
// when it returns.
func (a *attempt) SyscallConn() (syscall.RawConn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return nil, errAttemptOver
	}
	return a.f.SyscallConn()
}

// Close ends the attempt: the transport is done with it.
func (a *attempt) Close() error {
	a.end()
	return nil
}

// end waits for a read in flight, then refuses the next ones, brings the
// progress bar up to date and closes it.
func (a *attempt) end() {
	a.mu.Lock()
	if a.ended {
		a.mu.Unlock()
		return
	}
	a.ended = true
	a.mu.Unlock()
	close(a.stop)
	<-a.done
	a.sent = a.shown
	a.bar.Close()
	a.f.Close()
}

func (a *attempt) over() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ended
}

// showProgress tells the bar of the bytes sent every progressEvery, and
// once more at the end.
func (a *attempt) showProgress() {
	defer close(a.done)
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			a.show()
		case <-a.stop:
			a.show()
			return
		}
	}
}

// show reads the bytes sent since the last time through the bar. The bar's
// stream only counts (counter): in a plugin each read is a call to Packer
// that carries the count, not the bytes, and the buffer is never written,
// so it takes no memory.
func (a *attempt) show() {
	pos, err := a.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return
	}
	for pos = min(pos, a.size); a.shown < pos; {
		buf := countBuf()
		n, _ := a.bar.Read(buf[:min(int64(len(buf)), pos-a.shown)])
		if n <= 0 {
			return
		}
		a.shown += int64(n)
	}
}

// countBuf is what the bar's reads are made with: 4 MiB keeps their number
// down (512 for 2 GiB), and as nothing writes to it, it stays out of the
// process's memory. Made once, when an upload first needs it.
var countBuf = sync.OnceValue(func() []byte { return make([]byte, 4<<20) })

// counter is a stream that says it read whatever it was asked to, and
// writes nothing.
type counter struct{}

func (counter) Read(p []byte) (int, error) { return len(p), nil }
func (counter) Close() error               { return nil }

// lengthTransport sends an upload body with its Content-Length (net/http
// knows the length of in-memory readers only, and would send this one
// chunked), each request with an attempt of its own.
type lengthTransport struct{ next http.RoundTripper }

func (t lengthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if b, ok := req.Body.(*body); ok {
		a, err := b.next()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = a
		req.ContentLength = b.size
	}
	return t.next.RoundTrip(req)
}
