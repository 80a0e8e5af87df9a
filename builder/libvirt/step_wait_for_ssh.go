package libvirt

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
)

// stepWaitForSSH waits until the guest's SSH server sends its banner,
// checking four times a second. The SDK's SSH step retries only every five
// seconds, so without this its first success comes up to five seconds after
// the guest is ready; after this step, its first attempt succeeds. A TCP
// connection alone proves nothing with user-mode networking: QEMU accepts it
// on the forwarded port before the guest listens.
type stepWaitForSSH struct {
	config *Config
	// poll is how often to check; tests shorten it.
	poll time.Duration
}

func (s *stepWaitForSSH) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	c := s.config
	if c.Comm.Type != "ssh" || c.Comm.SSHBastionHost != "" || c.Comm.SSHProxyHost != "" {
		return multistep.ActionContinue
	}
	ui := state.Get("ui").(packersdk.Ui)
	poll := s.poll
	if poll == 0 {
		poll = 250 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, c.Comm.SSHTimeout)
	defer cancel()
	start := time.Now()
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	var last error // why the last attempt that had time to finish failed
	for said := false; ; {
		addr, err := sshAddress(c, state)
		if err == nil {
			if !said {
				ui.Sayf("Waiting for the guest's SSH server on %s...", addr)
				said = true
			}
			if err = sshBanner(ctx, addr); err == nil {
				log.Printf("[INFO] SSH answering on %s after %s", addr, time.Since(start).Round(time.Millisecond))
				return multistep.ActionContinue
			}
		}
		// A dial cut short by the deadline says nothing about the guest.
		if deadline, _ := ctx.Deadline(); time.Now().Before(deadline) {
			last = err
		}
		select {
		case <-ctx.Done():
			if _, cancelled := state.GetOk(multistep.StateCancelled); cancelled {
				return multistep.ActionHalt
			}
			return step.Halt(state, fmt.Errorf("Timeout waiting for SSH (ssh_timeout %s): %v", c.Comm.SSHTimeout, last))
		case <-ticker.C:
		}
	}
}

func (s *stepWaitForSSH) Cleanup(multistep.StateBag) {}

// sshAddress is the host:port the communicator will connect to.
func sshAddress(c *Config, state multistep.StateBag) (string, error) {
	host, err := commHost(c)(state)
	if err != nil {
		return "", err
	}
	port, err := commPort(c)(state)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// sshBanner succeeds when addr sends an SSH identification string.
func sshBanner(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return fmt.Errorf("no SSH banner from %s: %w", addr, err)
	}
	if string(buf) != "SSH-" {
		return fmt.Errorf("%s answers, but not with an SSH banner", addr)
	}
	return nil
}
