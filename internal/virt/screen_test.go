package virt

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// A screenshot is read as libvirt sends it, whatever its type: PNG (QEMU
// 7.1 and later), or the PPM of older QEMU (whose header has no comments);
// a truncated or other image fails with what was wrong.
func TestDecodeScreen(t *testing.T) {
	want := image.NewRGBA(image.Rect(0, 0, 3, 2))
	var ppm bytes.Buffer
	fmt.Fprintf(&ppm, "P6\n3 2\n255\n")
	for i := range 6 {
		c := color.RGBA{byte(i), byte(10 * i), byte(40 * i), 0xff}
		want.SetRGBA(i%3, i/3, c)
		ppm.Write([]byte{c.R, c.G, c.B})
	}
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, want); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mime, data string }{
		{"PPM", ppm.String()},
		{"PNG", pngData.String()},
	} {
		img, err := decodeScreen([]byte(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.mime, err)
		}
		for i := range 6 {
			if got, w := color.RGBAModel.Convert(img.At(i%3, i/3)), want.RGBAAt(i%3, i/3); got != w {
				t.Errorf("%q: pixel %d is %v, want %v", tc.mime, i, got, w)
			}
		}
	}
	for _, tc := range []struct{ data, err string }{
		{ppm.String()[:20], "row 1"},
		{"P6\n3 2\n65535\n", "want P6, 8 bits"},
		{"P6\nthree\n", "PPM header"},
		{pngData.String()[:30], "EOF"},
		{"\xff\xd8\xff\xe0 JFIF", "neither PNG nor PPM"},
		{"", "neither PNG nor PPM"},
	} {
		if _, err := decodeScreen([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want one about %q", tc.data, err, tc.err)
		}
	}
}

// A screenshot is whole once its last byte is in: a PNG's IEND chunk, a
// PPM's last pixel. (A hung call's image is used only when whole.)
func TestShotBufferWhole(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, img); err != nil {
		t.Fatal(err)
	}
	ppm := "P6\n3 2\n255\n" + strings.Repeat("\x01", 18)
	for _, tc := range []struct {
		data  string
		whole bool
	}{
		{pngData.String(), true},
		{pngData.String()[:pngData.Len()-1], false},
		{ppm, true},
		{ppm[:len(ppm)-1], false},
		{"P6\n3 2\n", false},
		{"", false},
	} {
		var b shotBuffer
		_, _ = b.Write([]byte(tc.data))
		if got := b.whole(); got != tc.whole {
			t.Errorf("%q: whole %v, want %v", tc.data, got, tc.whole)
		}
	}
}
