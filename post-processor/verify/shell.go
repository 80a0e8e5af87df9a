package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// shell runs a script with sh in the instance and returns its output.
type shell interface {
	run(ctx context.Context, script string) (string, error)
	// reopen returns a shell of the same kind on the instance's next boot,
	// or an error while it is not up.
	reopen(ctx context.Context) (shell, error)
	close()
	String() string
}

// sshShell is an SSH session, with the methods that logged it in.
type sshShell struct {
	g    *guest
	user string
	c    *ssh.Client
	auth []ssh.AuthMethod
	how  string
}

func (s *sshShell) run(ctx context.Context, script string) (string, error) {
	cmd := "sh -s"
	if s.user != "root" {
		// The probe reads root's files (firewall rules, NetworkManager's
		// connections) and the reboot needs root.
		cmd = "sudo -n sh -s"
	}
	return run(ctx, s.c, cmd, script)
}

func (s *sshShell) reopen(ctx context.Context) (shell, error) {
	c, err := s.g.dial(ctx, s.user, s.auth)
	if err != nil {
		return nil, err
	}
	return &sshShell{g: s.g, user: s.user, c: c, auth: s.auth, how: s.how}, nil
}

func (s *sshShell) close()         { s.c.Close() }
func (s *sshShell) String() string { return "SSH (" + s.how + ")" }

// agentShell runs scripts through the guest agent's guest-exec: the way in
// where SSH does not answer (an image without cloud-init has no host keys
// after virt-sysprep, so no sshd).
type agentShell struct {
	d   virt.Driver
	dom virt.Domain
}

func (a *agentShell) run(ctx context.Context, script string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	var started struct {
		Return struct{ PID int } `json:"return"`
	}
	err := a.command(map[string]any{"execute": "guest-exec", "arguments": map[string]any{
		"path": "/bin/sh", "arg": []string{"-s"}, "capture-output": true,
		"input-data": base64.StdEncoding.EncodeToString([]byte(script)),
	}}, &started)
	if err != nil {
		return "", err
	}
	for {
		var st struct {
			Return struct {
				Exited   bool   `json:"exited"`
				ExitCode int    `json:"exitcode"`
				OutData  string `json:"out-data"`
				ErrData  string `json:"err-data"`
			} `json:"return"`
		}
		if err := a.command(map[string]any{"execute": "guest-exec-status", "arguments": map[string]any{"pid": started.Return.PID}}, &st); err != nil {
			return "", err
		}
		if st.Return.Exited {
			out, _ := base64.StdEncoding.DecodeString(st.Return.OutData)
			if st.Return.ExitCode != 0 {
				errOut, _ := base64.StdEncoding.DecodeString(st.Return.ErrData)
				return string(out), fmt.Errorf("guest-exec: exit status %d: %s", st.Return.ExitCode, strings.TrimSpace(string(errOut)))
			}
			return string(out), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("guest-exec: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// command sends one agent command and decodes its answer into v.
func (a *agentShell) command(cmd any, v any) error {
	req, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	resp, err := a.d.AgentCommand(a.dom, string(req), 10*time.Second)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(resp), v)
}

func (a *agentShell) reopen(ctx context.Context) (shell, error) {
	if err := agentPing(a.d, a.dom); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *agentShell) close()         {}
func (a *agentShell) String() string { return "the guest agent (guest-exec)" }
