package virt

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// isSSH reports whether u is dialled over SSH.
func isSSH(u *url.URL) bool {
	_, transport, _ := strings.Cut(u.Scheme, "+")
	return slices.Contains([]string{"ssh", "libssh", "libssh2"}, transport)
}

// dialSSH opens the SSH connection of a qemu+ssh or qemu+libssh URI, read
// as go-libvirt reads it: the URI's user (else this process's), port (else
// 22) and password; its keyfile (else the first of ~/.ssh/identity, id_dsa,
// id_ecdsa, id_ed25519, id_rsa) and the agent's keys; sshauth= picks and
// orders the methods. The host key is checked against known_hosts= (else
// ~/.ssh/known_hosts for ssh, as OpenSSH would, and libvirt's own
// known_hosts for libssh), unless no_verify=1 or known_hosts_verify=ignore;
// known_hosts_verify=auto records the key of a host seen for the first time.
func dialSSH(u *url.URL) (*ssh.Client, error) {
	q := u.Query()
	name := u.User.Username()
	if name == "" {
		me, err := user.Current()
		if err != nil {
			return nil, err
		}
		name = me.Username
	}
	addr := net.JoinHostPort(u.Hostname(), cmpOr(u.Port(), "22"))
	auth, err := sshAuth(u)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{User: name, Auth: auth, Timeout: 20 * time.Second}
	if ignoreHostKey(u) {
		cfg.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // the URI asks for it
	} else {
		file := q.Get("known_hosts")
		if file == "" {
			file = defaultKnownHosts(u)
		}
		cfg.HostKeyCallback, cfg.HostKeyAlgorithms, err = hostKeys(file, addr, q.Get("known_hosts_verify") == "auto")
		if err != nil {
			return nil, err
		}
	}
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("SSH to %s@%s: %w", name, addr, err)
	}
	return c, nil
}

func cmpOr(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

func ignoreHostKey(u *url.URL) bool {
	q := u.Query()
	nv := q.Get("no_verify")
	return (nv != "" && nv != "0") || q.Get("known_hosts_verify") == "ignore"
}

func defaultKnownHosts(u *url.URL) string {
	if strings.HasSuffix(u.Scheme, "+ssh") {
		home, _ := os.UserHomeDir()
		return filepath.Join(home, ".ssh", "known_hosts")
	}
	dir, _ := os.UserConfigDir()
	return filepath.Join(dir, "libvirt", "known_hosts")
}

// sshAuth is the URI's authentication methods, in the order sshauth= gives
// (agent, privkey, password by default). The agent's and the key file's
// keys share one publickey method, as SSH allows only one.
func sshAuth(u *url.URL) ([]ssh.AuthMethod, error) {
	order := []string{"agent", "privkey", "password"}
	if a := u.Query().Get("sshauth"); a != "" {
		order = strings.Split(strings.ToLower(a), ",")
	}
	var signers []ssh.Signer
	var methods []ssh.AuthMethod
	var why []string
	addKeys := func(s ...ssh.Signer) {
		if len(signers) == 0 {
			methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) { return signers, nil }))
		}
		signers = append(signers, s...)
	}
	for _, m := range order {
		switch m {
		case "agent":
			sock := os.Getenv("SSH_AUTH_SOCK")
			if sock == "" {
				why = append(why, "no SSH agent (SSH_AUTH_SOCK is not set)")
				continue
			}
			conn, err := net.Dial("unix", sock)
			if err != nil {
				why = append(why, fmt.Sprintf("SSH agent: %v", err))
				continue
			}
			s, err := agent.NewClient(conn).Signers()
			if err != nil || len(s) == 0 {
				why = append(why, fmt.Sprintf("SSH agent: no keys (%v)", err))
				continue
			}
			addKeys(s...)
		case "privkey":
			file := u.Query().Get("keyfile")
			if file == "" {
				file = defaultKeyFile()
			}
			if file == "" {
				why = append(why, "no key file in ~/.ssh (keyfile= names one)")
				continue
			}
			pem, err := os.ReadFile(file)
			if err != nil {
				why = append(why, fmt.Sprintf("keyfile: %v", err))
				continue
			}
			s, err := ssh.ParsePrivateKey(pem)
			if err != nil {
				why = append(why, fmt.Sprintf("keyfile %s: %v", file, err))
				continue
			}
			addKeys(s)
		case "password":
			if pw, ok := u.User.Password(); ok {
				methods = append(methods, ssh.Password(pw))
			}
		case "keyboard-interactive":
		default:
			return nil, fmt.Errorf("sshauth: %q is not one of agent, privkey, password, keyboard-interactive", m)
		}
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("no way to log in over SSH: %s", strings.Join(why, "; "))
	}
	return methods, nil
}

func defaultKeyFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	for _, k := range []string{"identity", "id_dsa", "id_ecdsa", "id_ed25519", "id_rsa"} {
		if p := filepath.Join(home, ".ssh", k); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// hostKeys checks host keys against file. It also returns the algorithms
// of the keys file holds for addr, first in the client's preference:
// without them, Go's client may agree on a key type file does not hold and
// refuse a host it knows. With learn, the key of a host file does not know
// is added to it.
func hostKeys(file, addr string, learn bool) (ssh.HostKeyCallback, []string, error) {
	check, err := knownhosts.New(file)
	if errors.Is(err, fs.ErrNotExist) && learn {
		if err = os.MkdirAll(filepath.Dir(file), 0o700); err == nil {
			err = os.WriteFile(file, nil, 0o600)
		}
		if err == nil {
			check, err = knownhosts.New(file)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("known_hosts: %w (connect once with ssh to record the host's key, or add known_hosts_verify=auto or no_verify=1 to libvirt_uri)", err)
	}
	cb := func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := check(host, remote, key)
		var ke *knownhosts.KeyError
		if learn && errors.As(err, &ke) && len(ke.Want) == 0 {
			f, ferr := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0o600)
			if ferr != nil {
				return ferr
			}
			defer f.Close()
			_, ferr = fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(host)}, key))
			return ferr
		}
		return err
	}
	return cb, knownAlgorithms(check, addr), nil
}

// knownAlgorithms asks check about a key no host has, and reads the keys
// it wanted off its answer.
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	host, _, _ := net.SplitHostPort(addr)
	var ke *knownhosts.KeyError
	if !errors.As(check(addr, &net.TCPAddr{IP: net.ParseIP(host)}, probe), &ke) {
		return nil
	}
	var algos []string
	for _, w := range ke.Want {
		switch t := w.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algos = append(algos, t)
		}
	}
	return algos
}
