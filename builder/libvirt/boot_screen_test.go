package libvirt

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// screen loads a screenshot of the fixture ISO's boot under software
// emulation, as libvirt gave it (PNG), from testdata/screens.
func screen(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "screens", name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// text is a 720x400 black screen with white blocks where characters are:
// one 8x16 cell per non-space byte of each line.
func text(lines ...string) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 720, 400))
	for y := range 400 {
		for x := range 720 {
			img.SetRGBA(x, y, color.RGBA{A: 0xff})
		}
	}
	for row, line := range lines {
		for col, ch := range line {
			if ch == ' ' {
				continue
			}
			for y := row*16 + 2; y < row*16+14; y++ {
				for x := col*8 + 1; x < col*8+7; x++ {
					img.SetRGBA(x, y, color.RGBA{0xaa, 0xaa, 0xaa, 0xff})
				}
			}
		}
	}
	return img
}

// The rule on real boots, as screenshots of them under software emulation
// show them: the fixture's (SeaBIOS, iPXE, then isolinux's boot: prompt
// with its blinking cursor), and GRUB's menu under OVMF (QEMU's "Guest has
// not initialized the display" for 3s, a blank screen, the firmware's
// logo, then the menu counting down, with a screenshot that came back
// empty among them); and on the screens it must not wait
// forever on, or settle on too soon.
func TestScreenWatch(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type shot struct {
		ms    int
		img   image.Image
		ready bool
	}
	seabios, ipxe, prompt, cursor := screen(t, "seabios"), screen(t, "ipxe"), screen(t, "isolinux"), screen(t, "isolinux-cursor")
	notice, ovmf, grub, grubNext := screen(t, "qemu-no-display"), screen(t, "ovmf"), screen(t, "grub-uefi"), screen(t, "grub-uefi-countdown")
	countdown := func(n string) image.Image {
		return text("GNU GRUB  version 2.06", "", " *Debian GNU/Linux installer", "  Advanced options", "", "The highlighted entry will be executed automatically in "+n+"s.")
	}
	scroll := func(n int) image.Image {
		var lines []string
		for i := range 25 {
			lines = append(lines, strings.Repeat("x", (i*7+n*13)%80))
		}
		return text(lines...)
	}
	for _, tc := range []struct {
		name  string
		shots []shot
	}{
		{"fixture isolinux prompt", []shot{
			{0, image.NewRGBA(image.Rect(0, 0, 720, 400)), false},
			{100, seabios, false}, {250, ipxe, false}, {400, prompt, false},
			{1000, cursor, false}, {1600, prompt, false}, {2200, cursor, false},
			{2400, prompt, true},
		}},
		{"GRUB under OVMF, after QEMU's notice", []shot{
			{0, notice, false}, {2500, notice, false}, {3000, notice, false},
			{3200, image.NewRGBA(image.Rect(0, 0, 1280, 800)), false}, {3700, ovmf, false},
			{4200, grub, false}, {5300, grubNext, false}, {5800, image.NewRGBA(image.Rectangle{}), false},
			{6100, grubNext, false}, {6200, grub, true},
		}},
		{"a countdown is still", []shot{
			{0, countdown("10"), false}, {1000, countdown("9"), false}, {2000, countdown("8"), true},
		}},
		{"blank screens never are", []shot{
			{0, text(), false}, {5000, text(), false}, {10000, text("_"), false},
		}},
		{"scrolling text restarts the settle time", []shot{
			{0, scroll(0), false}, {1500, scroll(1), false}, {3000, scroll(2), false},
			{3400, scroll(2), false}, {5000, scroll(2), true},
		}},
		{"a mode switch restarts it", []shot{
			{0, prompt, false}, {1900, image.NewRGBA(image.Rect(0, 0, 640, 480)), false},
			{2000, text("Welcome"), false}, {3900, text("Welcome"), false}, {4000, text("Welcome"), true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := screenWatch{settle: 2 * time.Second}
			for _, s := range tc.shots {
				if got := w.see(s.img, at(s.ms)); got != s.ready {
					t.Fatalf("at %dms: ready %v, want %v", s.ms, got, s.ready)
				}
			}
		})
	}
	if got := changed(rgba(prompt), rgba(cursor)); got == 0 || got > settleChange {
		t.Errorf("the blinking cursor changes %.5f of the screen: want some, at most %.3f", got, settleChange)
	}
	if !blank(rgba(notice)) || blank(rgba(seabios)) || blank(rgba(grub)) {
		t.Errorf("blank: QEMU's notice %v (want true), SeaBIOS %v, GRUB %v (want false)", blank(rgba(notice)), blank(rgba(seabios)), blank(rgba(grub)))
	}
	if got := changed(rgba(grub), rgba(grubNext)); got == 0 || got > settleChange {
		t.Errorf("GRUB's countdown changes %.5f of the screen: want some, at most %.3f", got, settleChange)
	}
	if got := changed(rgba(ipxe), rgba(prompt)); got <= settleChange {
		t.Errorf("iPXE to isolinux changes %.5f of the screen: want more than %.3f", got, settleChange)
	}
}

// boot_wait = "auto" types once the screen is ready, after a blank start
// and changing screens; a screen that never settles fails the build at
// boot_wait_timeout, saying what it saw; a failed screenshot fails it.
func TestStepBootCommandAutoWait(t *testing.T) {
	defer func(d time.Duration) { screenInterval = d }(screenInterval)
	screenInterval = time.Millisecond
	raw := map[string]interface{}{"vm_name": "web", "boot_wait": "auto", "boot_wait_settle": "30ms", "boot_key_interval": "1ms", "boot_command": []string{"go<enter>"}}

	c := stepConfig(t, raw)
	st, _ := running(t, c)
	st.state.Put("http_port", 0)
	st.d.Screen = func(_ string, n int) image.Image {
		switch {
		case n < 5:
			return text()
		case n < 10:
			// Half a line comes and goes: never still, however fast.
			return text(strings.Repeat("x", 40+40*(n%2)))
		}
		return text("boot:")
	}
	start := time.Now()
	st.run(&stepBootCommand{config: c}, multistep.ActionContinue)
	if got := st.d.Typed("web"); got != "go\n" {
		t.Errorf("typed %q", got)
	}
	if n := st.d.Called("Screenshot", "web"); n < 11 || time.Since(start) < 30*time.Millisecond {
		t.Errorf("typed after %d screenshots and %s: want the prompt still for 30ms first", n, time.Since(start))
	}

	c = stepConfig(t, with(raw, map[string]interface{}{"boot_wait_timeout": "50ms"}))
	st, _ = running(t, c)
	st.state.Put("http_port", 0)
	// Half a line of text comes and goes: 1% of the screen, every time.
	st.d.Screen = func(_ string, n int) image.Image { return text(strings.Repeat("x", 40+40*(n%2))) }
	st.run(&stepBootCommand{config: c}, multistep.ActionHalt)
	if err := st.err().Error(); !strings.Contains(err, "boot_wait_timeout (50ms)") || !strings.Contains(err, "still changing") {
		t.Errorf("error %v", err)
	}
	if got := st.d.Typed("web"); got != "" {
		t.Errorf("typed %q on a screen that was never ready", got)
	}

	c = stepConfig(t, raw)
	st, _ = running(t, c)
	st.state.Put("http_port", 0)
	st.run(&stepBootCommand{config: c}, multistep.ActionHalt)
	if err := st.err().Error(); !strings.Contains(err, "boot_wait = \"auto\"") || !strings.Contains(err, "screenshot") {
		t.Errorf("error %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	c = stepConfig(t, raw)
	st, _ = running(t, c)
	st.state.Put("http_port", 0)
	st.d.Screen = func(string, int) image.Image { return text() }
	time.AfterFunc(50*time.Millisecond, cancel)
	if got := (&stepBootCommand{config: c}).Run(ctx, st.state); got != multistep.ActionHalt {
		t.Errorf("Ctrl-C while waiting for the screen: %v", got)
	}
}
