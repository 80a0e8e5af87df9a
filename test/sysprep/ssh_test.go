package sysprep_test

import (
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"golang.org/x/crypto/ssh"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// sshClient is a root login on a test guest.
type sshClient struct {
	t       *testing.T
	c       *ssh.Client
	overlay string
}

func (g *sshClient) run(cmd string) string {
	g.t.Helper()
	return testenv.SSHRun(g.t, g.c, cmd)
}

// poweroff shuts the guest down and waits until its domain is off.
func (g *sshClient) poweroff(l *libvirt.Libvirt, dom libvirt.Domain) {
	g.t.Helper()
	if s, err := g.c.NewSession(); err == nil {
		s.Start("systemctl poweroff")
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		state, _, err := l.DomainGetState(dom, 0)
		if err != nil || libvirt.DomainState(state) == libvirt.DomainShutoff {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	g.t.Fatal("the guest did not power off within 3 minutes")
}
