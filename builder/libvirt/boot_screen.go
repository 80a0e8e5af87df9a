package libvirt

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"log"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// The boot_wait = "auto" rule, from screenshots of real boot screens under
// software emulation (docs/builders/libvirt.mdx lists them): SeaBIOS and
// iPXE print for a fraction of a second, then the boot loader draws its
// prompt or menu and waits. What still changes on a waiting screen is
// small: the blinking cursor (18 pixels of isolinux's 720x400 text mode)
// and a countdown's digits (a few characters, well under 0.5%). So a
// screen is ready once it is not blank and no screenshot for
// boot_wait_settle has differed from the first of them in more than
// settleChange of its pixels; a bigger change (a new screen, text
// scrolling, a mode switch) starts the settle time again.
const (
	// settleChange is the fraction of the pixels that may change while the
	// screen counts as still: cursor and countdown, not a new screen.
	settleChange = 0.005
	// blankPixels is how many pixels may differ from the background of a
	// blank screen: a cursor's.
	blankPixels = 64
)

// screenInterval is the time between screenshots: a screenshot costs QEMU
// a few milliseconds; tests shorten it.
var screenInterval = 200 * time.Millisecond

// screenWatch applies the rule to one screenshot after another.
type screenWatch struct {
	settle time.Duration
	first  *image.RGBA // the first screenshot of the still period, nil = none
	since  time.Time
}

// see takes the screenshot taken at now and says whether the screen has
// been ready (not blank, still) for the settle time.
func (w *screenWatch) see(shot image.Image, now time.Time) bool {
	img := rgba(shot)
	if img.Bounds().Empty() {
		// No picture came (virt.Screenshot): it tells nothing either way.
		return false
	}
	if blank(img) {
		w.first = nil
		return false
	}
	if w.first == nil {
		w.first, w.since = img, now
		log.Printf("boot screen: %dx%d, not blank", img.Bounds().Dx(), img.Bounds().Dy())
	} else if f := changed(w.first, img); f > settleChange {
		w.first, w.since = img, now
		log.Printf("boot screen: %dx%d, %.2f%% of it changed", img.Bounds().Dx(), img.Bounds().Dy(), 100*f)
	}
	return now.Sub(w.since) >= w.settle
}

// rgba is img as RGBA pixels, which PNG screenshots already are.
func rgba(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	r := image.NewRGBA(img.Bounds())
	draw.Draw(r, r.Bounds(), img, img.Bounds().Min, draw.Src)
	return r
}

// blank: every pixel but a cursor's is the background's colour (that of
// the top left corner); or the screen is QEMU's own notice that the guest
// has set no video mode yet ("Guest has not initialized the display
// (yet).", one line at the middle of a 640x480 screen), which UEFI
// firmware leaves up for seconds under software emulation.
func blank(img *image.RGBA) bool {
	r := img.Bounds()
	bg := img.RGBAAt(r.Min.X, r.Min.Y)
	n := 0
	box := image.Rectangle{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) != bg {
				n++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n <= blankPixels || qemuNotice(r, box)
}

// qemuNotice: what differs from the background (box) is one line of text
// across the middle of a 640x480 screen, as QEMU draws its notice.
func qemuNotice(screen, box image.Rectangle) bool {
	return screen.Dx() == 640 && screen.Dy() == 480 &&
		box.Min.Y >= 216 && box.Max.Y <= 256 && abs(box.Min.X+box.Max.X-640) <= 16
}

func abs(n int) int { return max(n, -n) }

// changed is the fraction of the pixels that differ between a and b; a
// new size (a mode switch) is all of them.
func changed(a, b *image.RGBA) float64 {
	r := a.Bounds()
	if r != b.Bounds() || r.Empty() {
		return 1
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

// waitForScreen returns once the domain's screen is ready (screenWatch),
// or fails after timeout. It returns how long it waited.
func waitForScreen(ctx context.Context, driver virt.Driver, dom virt.Domain, settle, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	w := screenWatch{settle: settle}
	tick := time.NewTicker(screenInterval)
	defer tick.Stop()
	shots := 0
	for {
		img, err := driver.Screenshot(dom)
		if err != nil {
			return time.Since(start), fmt.Errorf("boot_wait = \"auto\": %w", err)
		}
		shots++
		now := time.Now()
		if w.see(img, now) {
			log.Printf("boot screen ready after %s (%d screenshots, still for %s)", now.Sub(start).Round(time.Millisecond), shots, settle)
			return now.Sub(start), nil
		}
		if now.Sub(start) >= timeout {
			what := "blank"
			if w.first != nil {
				what = fmt.Sprintf("still changing (last change %s ago)", now.Sub(w.since).Round(time.Second))
			}
			return now.Sub(start), fmt.Errorf("boot_wait = \"auto\": the screen was not ready in boot_wait_timeout (%s): it was %s; set a fixed boot_wait, or a longer boot_wait_timeout", timeout, what)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-tick.C:
		}
	}
}
