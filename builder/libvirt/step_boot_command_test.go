package libvirt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// rfbServer is the smallest VNC server the SDK's VNC driver types into: the
// RFB 3.8 handshake with VNC authentication (any answer passes), then the
// client's messages, of which it keeps the key presses.
type rfbServer struct {
	mu    sync.Mutex
	typed strings.Builder
	auth  bool // the client answered the VNC authentication challenge
}

// serve listens on loopback (step_wait_for_ssh_test's serve) and returns
// the port.
func (s *rfbServer) serve(t *testing.T) int {
	t.Helper()
	_, port := serve(t, s.session)
	return port
}

func (s *rfbServer) session(c net.Conn) {
	buf := make([]byte, 64)
	read := func(n int) []byte {
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return nil
		}
		return buf[:n]
	}
	_, _ = c.Write([]byte("RFB 003.008\n"))
	if read(12) == nil {
		return
	}
	_, _ = c.Write([]byte{1, 2}) // one security type: VNC authentication
	if b := read(1); b == nil || b[0] != 2 {
		return
	}
	_, _ = c.Write(make([]byte, 16)) // the challenge
	if read(16) == nil {
		return
	}
	s.mu.Lock()
	s.auth = true
	s.mu.Unlock()
	_, _ = c.Write([]byte{0, 0, 0, 0}) // SecurityResult: OK
	if read(1) == nil {                // ClientInit
		return
	}
	// ServerInit: 800x600, a 32-bit true-colour pixel format, a name.
	init := []byte{3, 32, 2, 88, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0, 0, 0, 0, 4, 't', 'e', 's', 't'}
	_, _ = c.Write(init)
	for {
		typ := read(1)
		if typ == nil {
			return
		}
		switch typ[0] {
		case 0: // SetPixelFormat
			read(19)
		case 2: // SetEncodings
			h := read(3)
			if h == nil {
				return
			}
			read(4 * int(binary.BigEndian.Uint16(h[1:3])))
		case 3: // FramebufferUpdateRequest
			read(9)
		case 4: // KeyEvent
			ev := read(7)
			if ev == nil {
				return
			}
			if ev[0] == 1 { // down
				s.key(binary.BigEndian.Uint32(ev[3:7]))
			}
		case 5: // PointerEvent
			read(5)
		default:
			return
		}
	}
}

// key records a key press as the character it types; modifiers are left
// out, Enter is a newline.
func (s *rfbServer) key(sym uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case sym == 0xff0d:
		s.typed.WriteByte('\n')
	case sym < 0x100:
		s.typed.WriteByte(byte(sym))
	}
}

func (s *rfbServer) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.typed.String()
}

// The boot command is typed through libvirt (the default) with its
// templates filled, shifted characters with shift held around them, and a
// held key (<leftShiftOn>) held while the keys after it are typed.
func TestStepBootCommandLibvirt(t *testing.T) {
	c := stepConfig(t, map[string]interface{}{"vm_name": "web", "boot_wait": "1ms", "boot_key_interval": "1ms",
		"boot_command": []string{"<esc>Install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg name={{ .Name }} <leftShiftOn>a-b<leftShiftOff>_~<enter>"}})
	st, _ := running(t, c)
	st.state.Put("http_ip", "10.0.2.2")
	st.state.Put("http_port", 8123)
	st.run(&stepBootCommand{config: c}, multistep.ActionContinue)
	if got, want := st.d.Typed("web"), "<esc>Install ks=http://10.0.2.2:8123/ks.cfg name=web A_B_~\n"; got != want {
		t.Errorf("typed %q, want %q", got, want)
	}
	keys := st.d.Keys["web"]
	// "I": shift, i, i up, shift up, in one call.
	if got := fmt.Sprint(keys[2:6]); got != "[{shift true} {i true} {i false} {shift false}]" {
		t.Errorf("a capital I is sent as %s", got)
	}
	// <leftShiftOn> holds shift down until <leftShiftOff>: a single press and
	// release around a, -, b.
	held := 0
	for i, k := range keys {
		if k.QCode == "a" && k.Down {
			held = i
		}
	}
	if got := fmt.Sprint(keys[held-1 : held+7]); got != "[{shift true} {a true} {a false} {minus true} {minus false} {b true} {b false} {shift false}]" {
		t.Errorf("<leftShiftOn>a-b<leftShiftOff> sent as %s", got)
	}
	if n := st.d.Called("SendKeys", "web"); n != 57 {
		t.Errorf("%d SendKeys calls, want one per key and one per held key's press and release (57)", n)
	}
	if st.d.Called("VNCPort") != 0 {
		t.Errorf("libvirt typing asked for VNC: %v", st.d.Calls)
	}
}

// A libvirt that refuses the keys fails the build, saying so; a Ctrl-C
// while typing ends it at once.
func TestStepBootCommandLibvirtFails(t *testing.T) {
	c := stepConfig(t, map[string]interface{}{"vm_name": "web", "boot_wait": "1ms", "boot_command": []string{"install<enter>"}})
	st, _ := running(t, c)
	st.state.Put("http_port", 0)
	st.d.Errs = map[string]error{"SendKeys": errors.New("QMP: GenericError: Invalid parameter")}
	st.run(&stepBootCommand{config: c}, multistep.ActionHalt)
	if err := st.err().Error(); !strings.Contains(err, "typing the boot command") || !strings.Contains(err, "Invalid parameter") {
		t.Errorf("error %v", err)
	}

	c = stepConfig(t, map[string]interface{}{"vm_name": "web", "boot_wait": "1ms", "boot_key_interval": "1h", "boot_command": []string{"install<enter>"}})
	st, _ = running(t, c)
	st.state.Put("http_port", 0)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if got := (&stepBootCommand{config: c}).Run(ctx, st.state); got != multistep.ActionHalt || time.Since(start) > 10*time.Second {
		t.Errorf("Ctrl-C while typing: %v after %s", got, time.Since(start))
	}
	if got := st.d.Typed("web"); got != "i" {
		t.Errorf("typed %q before the Ctrl-C, want the first key only", got)
	}
}

// The pause after each key typed through libvirt: boot_key_interval, else
// PACKER_KEY_INTERVAL, else the measured default.
func TestKeyInterval(t *testing.T) {
	if got := keyInterval(0, libvirtKeyInterval); got != libvirtKeyInterval {
		t.Errorf("default %s, want %s", got, libvirtKeyInterval)
	}
	t.Setenv("PACKER_KEY_INTERVAL", "7ms")
	if got := keyInterval(0, libvirtKeyInterval); got != 7*time.Millisecond {
		t.Errorf("with PACKER_KEY_INTERVAL=7ms: %s", got)
	}
	if got := keyInterval(3*time.Millisecond, libvirtKeyInterval); got != 3*time.Millisecond {
		t.Errorf("with boot_key_interval 3ms: %s", got)
	}
}

// The boot command is typed over VNC with its templates filled: the HTTP
// server's address as the guest reaches it, its port, the VM's name; each
// of boot_steps in turn.
func TestStepBootCommand(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides map[string]interface{}
		want      string
	}{
		{
			name:      "boot_command",
			overrides: map[string]interface{}{"boot_command": []string{"install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg name={{ .Name }}<enter>"}},
			want:      "install ks=http://10.0.2.2:8123/ks.cfg name=web\n",
		},
		{
			name:      "boot_steps",
			overrides: map[string]interface{}{"boot_steps": [][]string{{"<esc><wait>", "menu"}, {"linux ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/<enter>", "kernel line"}}},
			want:      "linux ks=http://10.0.2.2:8123/\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := stepConfig(t, merge(map[string]interface{}{"vm_name": "web", "boot_wait": "1ms", "boot_key_interval": "1ms", "boot_key_transport": "vnc"}, tc.overrides))
			st := newStepTest(t, c)
			srv := &rfbServer{}
			st.state.Put("vnc_port", srv.serve(t))
			st.state.Put("http_ip", "10.0.2.2")
			st.state.Put("http_port", 8123)
			st.run(&stepBootCommand{config: c}, multistep.ActionContinue)
			if got := srv.text(); got != tc.want || !srv.auth {
				t.Errorf("typed %q (VNC authentication %v), want %q", got, srv.auth, tc.want)
			}
		})
	}
}

// No VNC server: the build stops, saying so.
func TestStepBootCommandNoVNC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c := stepConfig(t, map[string]interface{}{"boot_wait": "1ms", "boot_command": []string{"<enter>"}, "boot_key_transport": "vnc"})
	st := newStepTest(t, c)
	st.state.Put("vnc_port", port)
	st.state.Put("http_port", 0)
	st.run(&stepBootCommand{config: c}, multistep.ActionHalt)
	if !st.ui.ErrorSaid("connecting to VNC") {
		t.Errorf("errors %q", st.ui.Errors())
	}
}

// A VNC server that accepts and never answers: the handshake times out,
// and a Ctrl-C ends it at once, whatever the timeout.
func TestStepBootCommandSilentVNC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // held open, silent
		}
	}()
	c := stepConfig(t, map[string]interface{}{"boot_wait": "1ms", "boot_command": []string{"<enter>"}, "boot_key_transport": "vnc"})
	newState := func() *stepTest {
		st := newStepTest(t, c)
		st.state.Put("vnc_port", l.Addr().(*net.TCPAddr).Port)
		st.state.Put("http_port", 0)
		return st
	}

	old := vncTimeout
	vncTimeout = 200 * time.Millisecond
	defer func() { vncTimeout = old }()
	st := newState()
	st.run(&stepBootCommand{config: c}, multistep.ActionHalt)
	if !st.ui.ErrorSaid("VNC handshake with 127.0.0.1") || !st.ui.ErrorSaid("timeout") {
		t.Errorf("errors %q", st.ui.Errors())
	}

	vncTimeout = time.Hour
	st = newState()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	if got := (&stepBootCommand{config: c}).Run(ctx, st.state); got != multistep.ActionHalt || time.Since(start) > 10*time.Second {
		t.Errorf("Ctrl-C during the handshake: %v after %s", got, time.Since(start))
	}
}

// Where the boot command reaches the VNC display on the libvirt host.
func TestVNCDialAddress(t *testing.T) {
	for _, tc := range []struct {
		bind, uri, want, err string
	}{
		{"127.0.0.1", "qemu:///system", "127.0.0.1", ""},
		{"0.0.0.0", "qemu:///system", "127.0.0.1", ""},
		{"", "qemu+tcp://127.0.0.1/system", "127.0.0.1", ""},
		{"0.0.0.0", "qemu+ssh://root@kvm.example/system", "kvm.example", ""},
		{"192.0.2.7", "qemu+ssh://root@kvm.example/system", "192.0.2.7", ""},
		{"127.0.0.1", "qemu+ssh://root@kvm.example/system", "", "out of reach"},
	} {
		got, err := vncDialAddress(tc.bind, tc.uri)
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("vncDialAddress(%q, %q) = %q, %v; want %q, %q", tc.bind, tc.uri, got, err, tc.want, tc.err)
		}
	}
}
