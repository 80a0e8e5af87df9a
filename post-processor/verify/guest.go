package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// guest is how the instance is reached: its SSH and web server ports on
// host (forwards of user-mode networking, or the guest's own address).
type guest struct {
	host              string
	sshPort, httpPort int
	// poll is the pause between two tries.
	poll time.Duration
}

// resolve finds the guest's address on a libvirt network or bridge (from
// the DHCP lease or the guest agent); user-mode forwards need nothing.
func (g *guest) resolve(ctx context.Context, d virt.Driver, dom virt.Domain, mode string) error {
	if mode == virt.NetworkUser {
		return nil
	}
	for {
		addr, _, err := d.GuestAddress(dom)
		if err == nil && addr != "" {
			g.host = addr
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no address for the instance: %v", err)
		case <-time.After(g.poll):
		}
	}
}

func (g *guest) addr(port int) string { return net.JoinHostPort(g.host, strconv.Itoa(port)) }

func (g *guest) sshAddr() string { return g.addr(g.sshPort) }

// waitSSH returns once an SSH server answers (it asks for authentication),
// polling every two seconds until ctx ends, or until the console log has
// shown a login prompt for grace without SSH answering: the instance booted
// without it.
func (g *guest) waitSSH(ctx context.Context, consoleLog string, grace time.Duration) error {
	var last error
	var prompt time.Time
	for {
		var c *ssh.Client
		c, last = g.dial(ctx, "probe", nil)
		var auth *authError
		if last == nil || errors.As(last, &auth) {
			if c != nil {
				c.Close()
			}
			return nil
		}
		if prompt.IsZero() && loginPrompt(consoleLog) {
			prompt = time.Now()
		}
		if !prompt.IsZero() && time.Since(prompt) > grace {
			return fmt.Errorf("the console has shown a login prompt for %s, and nothing answers on %s: %v", grace, g.sshAddr(), last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nothing answered on %s: %v", g.sshAddr(), last)
		case <-time.After(g.poll):
		}
	}
}

// loginPrompt reports whether the console log shows a getty's prompt.
func loginPrompt(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && bytes.Contains(data, []byte(" login: "))
}

// authError is an SSH server refusing a login: it answered, it said no.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }

// dial opens an SSH session as user with the given methods.
func (g *guest) dial(ctx context.Context, user string, methods []ssh.AuthMethod) (*ssh.Client, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", g.sshAddr())
	if err != nil {
		return nil, err
	}
	// The deadline bounds the handshake; a connection that cannot take
	// one fails in the handshake all the same.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	cfg := &ssh.ClientConfig{
		User: user, Auth: methods,
		// The instance's host keys are new at each boot of a new instance:
		// nothing to check them against.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         30 * time.Second,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, g.sshAddr(), cfg)
	if err != nil {
		conn.Close()
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &authError{err}
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// login tries the methods until one logs in or until the deadline; a
// server that refuses is asked again, as cloud-init may not have set the
// key or the password yet.
func (g *guest) login(ctx context.Context, user string, methods []ssh.AuthMethod, within time.Duration) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		c, err := g.dial(ctx, user, methods)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(g.poll):
		}
	}
}

// passwordAuth answers both ways sshd asks for a password.
func passwordAuth(password string) []ssh.AuthMethod {
	return []ssh.AuthMethod{
		ssh.Password(password),
		ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = password
			}
			return answers, nil
		}),
	}
}

// commandTimeout bounds a command in the guest: a guest that reboots or
// dies under user-mode networking leaves the connection open, silent.
const commandTimeout = 2 * time.Minute

// run runs cmd in a session of c and returns its standard output. When ctx
// ends or the command takes longer than commandTimeout, c is closed: that
// is the only way to stop waiting on a silent connection.
func run(ctx context.Context, c *ssh.Client, cmd string, stdin string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	var out, errOut bytes.Buffer
	s.Stdout, s.Stderr = &out, &errOut
	if stdin != "" {
		s.Stdin = strings.NewReader(stdin)
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := s.Run(cmd); err != nil {
		if ctx.Err() != nil {
			return out.String(), fmt.Errorf("%s: %w", cmd, ctx.Err())
		}
		return out.String(), fmt.Errorf("%s: %v: %s", cmd, err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}
