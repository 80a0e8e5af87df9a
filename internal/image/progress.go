package image

import (
	"io"
	"strconv"
	"strings"
	"sync"
)

// ProgressUI is the part of Packer's UI that draws progress bars;
// packersdk.Ui is one.
type ProgressUI interface {
	TrackProgress(src string, currentSize, totalSize int64, stream io.ReadCloser) io.ReadCloser
}

// Bar is a progress bar in Packer's UI for an operation that reports how
// far it is (qemu-img convert -p, libguestfs's progress), not bytes read
// through the plugin. Packer draws a bar for a stream read through
// TrackProgress; a Bar reads such a stream whose position it advances to
// total × the percentage done, so the bar shows that part of total bytes.
//
// Inside a plugin each read of the tracked stream is one RPC call to
// Packer, which allocates a buffer of the read's size: the stream is read
// in chunks of about a thousandth of total, 64 KiB to 8 MiB.
type Bar struct {
	mu     sync.Mutex
	moved  *sync.Cond
	total  int64
	target int64 // where the operation is
	pos    int64 // where the bar is
	closed bool
	once   sync.Once
	done   chan struct{}
}

// NewBar starts a bar named name for an operation on total bytes.
func NewBar(ui ProgressUI, name string, total int64) *Bar {
	b := &Bar{total: total, done: make(chan struct{})}
	b.moved = sync.NewCond(&b.mu)
	tracked := ui.TrackProgress(name, 0, total, barStream{b})
	buf := make([]byte, min(max(total/1000, 64<<10), 8<<20))
	go func() {
		defer close(b.done)
		// Not io.Copy to io.Discard: its ReadFrom reads 8 KiB at a time.
		for {
			if _, err := tracked.Read(buf); err != nil {
				break
			}
		}
		_ = tracked.Close()
	}()
	return b
}

// Set moves the bar to percent (0 to 100) done; it never moves back.
func (b *Bar) Set(percent float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := int64(percent / 100 * float64(b.total))
	t = min(max(t, 0), b.total)
	if t > b.target {
		b.target = t
		b.moved.Broadcast()
	}
}

// Close ends the bar where it is and returns once Packer has it all; it
// may be called more than once.
func (b *Bar) Close() {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.moved.Broadcast()
		b.mu.Unlock()
		<-b.done
	})
}

// barStream is the stream the bar's UI reads: each read returns the
// bytes (of no meaning) the operation advanced by since the last one.
type barStream struct{ b *Bar }

func (s barStream) Read(p []byte) (int, error) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.pos >= b.target && !b.closed {
		b.moved.Wait()
	}
	if b.pos >= b.target {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.target-b.pos))
	b.pos += int64(n)
	return n, nil
}

func (barStream) Close() error { return nil }

// QemuImgPercent reads a progress line of qemu-img -p, "    (12.34/100%)".
func QemuImgPercent(line string) (float64, bool) {
	pct, ok := strings.CutPrefix(strings.TrimSpace(line), "(")
	if !ok {
		return 0, false
	}
	pct, rest, ok := strings.Cut(pct, "/")
	if !ok || rest != "100%)" {
		return 0, false
	}
	f, err := strconv.ParseFloat(pct, 64)
	return f, err == nil
}
