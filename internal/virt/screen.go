package virt

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digitalocean/go-libvirt"
)

// Screenshot is the running domain's screen (its first head), through
// libvirt (virDomainScreenshot): it works wherever libvirt does, over
// qemu+ssh too, with no VNC port to reach. QEMU sends a PNG where it can,
// else a PPM.
//
// go-libvirt deadlocks a connection, now and then, at the end of a
// download stream: the daemon's closing packet is routed while the call
// lets go of its channel (digitalocean/go-libvirt#241; seen here every few
// seconds under OVMF), and every call on that connection then hangs. So
// screenshots go over a connection of their own, and a call that hangs
// once its image has arrived whole is given up: its image is used, its
// connection cut, and the next screenshot opens another. A call with no
// whole image after screenshotTimeout is tried again on a new connection.
func (d *Libvirt) Screenshot(dom Domain) (image.Image, error) {
	for attempt := 1; ; attempt++ {
		c, err := d.screenConn()
		if err != nil {
			return nil, fmt.Errorf("domain %s: screenshot: %w", dom.Name, err)
		}
		var buf shotBuffer
		done := make(chan error, 1)
		go func() {
			_, err := c.DomainScreenshot(dom, &buf, 0, 0)
			done <- err
		}()
		img, err, ok := d.awaitShot(c, dom, &buf, done)
		if ok {
			return img, err
		}
		log.Printf("domain %s: no screenshot in %s (%d bytes): connection cut (attempt %d of %d)", dom.Name, screenshotTimeout, buf.len(), attempt, screenshotAttempts)
		if attempt == screenshotAttempts {
			return nil, fmt.Errorf("domain %s: screenshot: no answer from libvirt in %s, %d times", dom.Name, screenshotTimeout, screenshotAttempts)
		}
	}
}

// awaitShot waits for the call on c to end, or for its image to be whole
// with the call hung (then cuts c); ok is false after screenshotTimeout
// with neither (c is cut too).
func (d *Libvirt) awaitShot(c *Conn, dom Domain, buf *shotBuffer, done <-chan error) (img image.Image, err error, ok bool) {
	tick := time.NewTicker(screenshotPoll)
	defer tick.Stop()
	timeout := time.After(screenshotTimeout)
	wholeFor := 0
	for {
		select {
		case err := <-done:
			img, err := screenshot(c, dom, buf.bytes(), err)
			return img, err, true
		case <-tick.C:
			if !buf.whole() {
				wholeFor = 0
				continue
			}
			// A call that returns does so within a millisecond of its
			// last packet: two polls later, it is hung.
			if wholeFor++; wholeFor < 2 {
				continue
			}
			d.dropScreenConn(c)
			log.Printf("domain %s: the screenshot call hung after its image arrived (go-libvirt#241): connection cut", dom.Name)
			img, err := decodeScreen(buf.bytes())
			if err != nil {
				err = fmt.Errorf("domain %s: screenshot: %w", dom.Name, err)
			}
			return img, err, true
		case <-timeout:
			d.dropScreenConn(c)
			return nil, nil, false
		}
	}
}

// screenshotTimeout bounds one screenshot: a 1280x800 PNG comes back in
// tens of milliseconds from a local daemon, well under a second remotely,
// and in seconds on a host busy with software emulation.
var screenshotTimeout = 5 * time.Second

// screenshotPoll is how often a screenshot in flight is looked at.
const screenshotPoll = 50 * time.Millisecond

// screenshotAttempts is how many connections a screenshot is tried on.
const screenshotAttempts = 3

// shotBuffer is a screenshot as it arrives, which another goroutine reads.
type shotBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *shotBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *shotBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf[:len(b.buf):len(b.buf)]
}

func (b *shotBuffer) len() int { return len(b.bytes()) }

// whole: a PNG that ends with its IEND chunk, or a PPM of all its pixels.
func (b *shotBuffer) whole() bool {
	p := b.bytes()
	if bytes.HasPrefix(p, []byte("\x89PNG")) {
		return bytes.HasSuffix(p, []byte("IEND\xaeB`\x82"))
	}
	w, h, header, err := ppmHeader(p)
	return err == nil && len(p) >= header+3*w*h
}

// screenConn is the screenshots' connection, opened beside the driver's
// at the first screenshot.
func (d *Libvirt) screenConn() (*Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.screens == nil {
		c, err := d.conn.Beside()
		if err != nil {
			return nil, err
		}
		d.screens = c
	}
	return d.screens, nil
}

// dropScreenConn cuts c, deadlocked: its goroutines stay blocked, and the
// next screenshot opens another.
func (d *Libvirt) dropScreenConn(c *Conn) {
	c.cut()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.screens == c {
		d.screens = nil
	}
}

// screenshot is the image a screenshot call on c that returned err sent.
//
// The image's type is read from its first bytes, not from the MIME type
// the call returns: go-libvirt returns the stream's closing packet, not the
// call's reply, so decoding that MIME type fails (an XDR EOF) once the
// image has arrived. Some screenshots come back with no bytes at all
// (seen here under OVMF, now and then among full ones): that is an empty
// image, once a call on the same connection shows the domain and the
// connection are fine, and the caller takes another.
func screenshot(c *Conn, dom Domain, data []byte, err error) (image.Image, error) {
	if len(data) == 0 {
		var lerr libvirt.Error
		if errors.As(err, &lerr) {
			return nil, fmt.Errorf("domain %s: screenshot: %w", dom.Name, err)
		}
		if _, _, serr := c.DomainGetState(dom, 0); serr != nil {
			return nil, fmt.Errorf("domain %s: screenshot: %w", dom.Name, serr)
		}
		return image.NewRGBA(image.Rectangle{}), nil
	}
	img, err := decodeScreen(data)
	if err != nil {
		return nil, fmt.Errorf("domain %s: screenshot: %w", dom.Name, err)
	}
	return img, nil
}

// decodeScreen reads a PNG, or a binary PPM.
func decodeScreen(p []byte) (image.Image, error) {
	switch {
	case bytes.HasPrefix(p, []byte("\x89PNG")):
		return png.Decode(bytes.NewReader(p))
	case bytes.HasPrefix(p, []byte("P6")):
		return decodePPM(p)
	}
	return nil, fmt.Errorf("an image neither PNG nor PPM (%d bytes)", len(p))
}

// ppmHeader reads a binary PPM's header (P6, width, height and maxval,
// each followed by one white space): the size and the header's length.
// Only 8 bits a channel, as QEMU writes, pass.
func ppmHeader(p []byte) (w, h, header int, err error) {
	var fields []string
	start := -1
	for i, c := range p[:min(len(p), 64)] {
		space := c == ' ' || c == '\n' || c == '\r' || c == '\t'
		switch {
		case !space && start < 0:
			start = i
		case space && start >= 0:
			fields = append(fields, string(p[start:i]))
			start = -1
		}
		if len(fields) == 4 {
			header = i + 1
			break
		}
	}
	if len(fields) < 4 {
		return 0, 0, 0, fmt.Errorf("PPM header: %q is not a whole one", p[:min(len(p), 64)])
	}
	w, werr := strconv.Atoi(fields[1])
	h, herr := strconv.Atoi(fields[2])
	maxval, merr := strconv.Atoi(fields[3])
	if fields[0] != "P6" || werr != nil || herr != nil || merr != nil || maxval != 255 || w <= 0 || h <= 0 || w > 1<<14 || h > 1<<14 {
		return 0, 0, 0, fmt.Errorf("PPM header %q: want P6, 8 bits, at most 16384x16384", strings.Join(fields, " "))
	}
	return w, h, header, nil
}

// decodePPM reads a binary PPM (P6, 8 bits a channel): what QEMU's
// screendump wrote before it could write PNG. Go has no netpbm decoder.
func decodePPM(p []byte) (image.Image, error) {
	w, h, header, err := ppmHeader(p)
	if err != nil {
		return nil, err
	}
	pix := p[header:]
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		if len(pix) < 3*w*(y+1) {
			return nil, fmt.Errorf("PPM pixels, row %d: %w", y, io.ErrUnexpectedEOF)
		}
		row, line := pix[3*w*y:], img.Pix[y*img.Stride:]
		for x := range w {
			copy(line[4*x:4*x+3], row[3*x:3*x+3])
			line[4*x+3] = 0xff
		}
	}
	return img, nil
}
