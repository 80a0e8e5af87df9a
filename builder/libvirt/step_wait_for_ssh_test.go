package libvirt

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// serve accepts connections on a loopback port and hands each to answer.
func serve(t *testing.T, answer func(net.Conn)) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { answer(c); c.Close() }()
		}
	}()
	a := l.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func waitState(host string, port int) multistep.StateBag {
	state := new(multistep.BasicStateBag)
	state.Put("ui", &packersdk.BasicUi{Reader: new(bytes.Buffer), Writer: new(bytes.Buffer), ErrorWriter: new(bytes.Buffer)})
	state.Put("comm_host", host)
	state.Put("comm_port", port)
	return state
}

func sshConfig(timeout time.Duration) *Config {
	c := &Config{}
	c.Comm.Type = "ssh"
	c.Comm.SSHTimeout = timeout
	return c
}

// Like QEMU's forwarded port before the guest's sshd runs: connections are
// accepted and closed at once, until the "guest" starts answering.
func TestWaitForSSHWaitsForTheBanner(t *testing.T) {
	ready := time.Now().Add(700 * time.Millisecond)
	host, port := serve(t, func(c net.Conn) {
		if time.Now().After(ready) {
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
		}
	})
	step := &stepWaitForSSH{config: sshConfig(time.Minute), poll: 50 * time.Millisecond}
	state := waitState(host, port)
	start := time.Now()
	if got := step.Run(context.Background(), state); got != multistep.ActionContinue {
		t.Fatalf("Run = %v (%v), want continue", got, state.Get("error"))
	}
	if waited := time.Since(start); waited < 700*time.Millisecond || waited > 2*time.Second {
		t.Errorf("continued after %s; the banner came after 700ms", waited)
	}
}

func TestWaitForSSHTimesOutOnAnotherService(t *testing.T) {
	host, port := serve(t, func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n")) })
	step := &stepWaitForSSH{config: sshConfig(300 * time.Millisecond), poll: 50 * time.Millisecond}
	state := waitState(host, port)
	if got := step.Run(context.Background(), state); got != multistep.ActionHalt {
		t.Fatalf("Run = %v, want halt", got)
	}
	err, _ := state.Get("error").(error)
	if err == nil || !strings.Contains(err.Error(), "ssh_timeout") || !strings.Contains(err.Error(), "not with an SSH banner") {
		t.Errorf("error = %v, want the timeout naming ssh_timeout and why", err)
	}
}

func TestWaitForSSHLeavesOtherCommunicatorsAlone(t *testing.T) {
	for _, typ := range []string{"none", "winrm"} {
		c := sshConfig(time.Millisecond)
		c.Comm.Type = typ
		if got := (&stepWaitForSSH{config: c}).Run(context.Background(), waitState("127.0.0.1", 1)); got != multistep.ActionContinue {
			t.Errorf("communicator %s: Run = %v, want continue", typ, got)
		}
	}
}
