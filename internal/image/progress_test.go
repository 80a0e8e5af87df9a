package image

import (
	"io"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
)

// A Bar's stream, read by Packer's bar, advances to the share of total the
// percentages say, never back, and ends where the operation stopped.
func TestBar(t *testing.T) {
	ui := uitest.New()
	const total = 10 << 30
	b := NewBar(ui, "convert disk.qcow2", total)
	b.Set(12.5)
	b.Set(50)
	b.Set(20) // never back
	b.Set(-1)
	b.Close()
	b.Close() // again: no effect
	if got := ui.ProgressRead("convert disk.qcow2"); got != total/2 {
		t.Errorf("the bar read %d bytes, want %d (50%%)", got, int64(total/2))
	}

	full := NewBar(ui, "full", 1000)
	full.Set(150) // clamped
	full.Close()
	if got := ui.ProgressRead("full"); got != 1000 {
		t.Errorf("a bar past 100%% read %d bytes, want 1000", got)
	}

	// A bar of nothing ends at once.
	empty := NewBar(ui, "empty", 0)
	empty.Set(100)
	empty.Close()
}

// The bar reads in chunks (each read is an RPC call to Packer), of at most
// 8 MiB: a 1 TiB disk at 100% is about 131072 reads, not one per byte.
func TestBarReadsInChunks(t *testing.T) {
	ui := &countingUI{UI: uitest.New()}
	b := NewBar(ui, "big", 1<<40)
	b.Set(100)
	b.Close()
	if ui.reads == 0 || ui.reads > (1<<40)/(8<<20)+1 {
		t.Errorf("%d reads for 1 TiB", ui.reads)
	}
}

type countingUI struct {
	*uitest.UI
	reads int
}

func (u *countingUI) TrackProgress(src string, cur, total int64, stream io.ReadCloser) io.ReadCloser {
	return u.UI.TrackProgress(src, cur, total, readCounter{stream, &u.reads})
}

type readCounter struct {
	io.ReadCloser
	n *int
}

func (r readCounter) Read(p []byte) (int, error) {
	*r.n++
	return r.ReadCloser.Read(p)
}
