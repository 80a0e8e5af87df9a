package virt

import (
	"fmt"
	"time"

	"github.com/digitalocean/go-libvirt"
)

// AgentCommand sends a guest agent command and returns its answer.
func (d *Libvirt) AgentCommand(dom Domain, command string, timeout time.Duration) (string, error) {
	resp, err := d.conn.QEMUDomainAgentCommand(dom, command, int32(max(timeout/time.Second, 1)), 0)
	if err != nil {
		return "", err
	}
	if len(resp) == 0 {
		return "", fmt.Errorf("the guest agent gave no answer")
	}
	return resp[0], nil
}

// SetUserPassword sets an account's password with the guest agent's
// guest-set-user-password.
func (d *Libvirt) SetUserPassword(dom Domain, user, password string) error {
	return d.conn.DomainSetUserPassword(dom, libvirt.OptString{user}, libvirt.OptString{password}, 0)
}
