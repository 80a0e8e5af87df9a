package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// fakeGuest is an instance as verify meets it, for unit tests of the
// checks: an SSH server and a web server on loopback, and guest agent
// answers for the fake driver, all backed by a model of the booted image.
// Its faults are the ones the real broken images have.
type fakeGuest struct {
	t   *testing.T
	in  *instance
	d   *fake.Driver
	dom string

	// The image: what it has, what is broken.
	cloudInit bool   // cloud-init sets the key, the password, the hostname, grows /
	agent     bool   // qemu-guest-agent answers
	swap      bool   // a swap file in fstab
	macPin    string // a MAC pinned in a udev rule
	web       bool   // a web server on port 80

	mu       sync.Mutex
	boot     int
	grownTo  uint64 // the disk size the root last grew to
	conns    []net.Conn
	sshPort  int
	httpPort int
	diskPath string
	execs    map[int]string // guest-exec pid -> output
}

// start serves the guest's SSH and web ports and answers for its agent.
func (g *fakeGuest) start() {
	t := g.t
	g.execs = map[int]string{}
	g.boot = 1
	g.sshPort = g.serve(g.handleSSH)
	if g.web {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "Apache/2.4.68 (Debian)")
			_, _ = io.WriteString(w, "It works!")
		})}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { srv.Close() })
		g.httpPort = l.Addr().(*net.TCPAddr).Port
	} else {
		g.httpPort = g.serve(func(c net.Conn) { c.Close() })
	}
	if g.agent {
		g.d.Agent = g.answerAgent
	}
}

// serve accepts on a loopback port and hands each connection to handle.
func (g *fakeGuest) serve(handle func(net.Conn)) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			g.conns = append(g.conns, c)
			g.mu.Unlock()
			go handle(c)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

var hostKey = func() ssh.Signer {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := ssh.NewSignerFromKey(k)
	return s
}()

// handleSSH is sshd: without cloud-init there are no host keys after
// virt-sysprep and no sshd, and the connection drops as QEMU's forward
// does with no one listening.
func (g *fakeGuest) handleSSH(c net.Conn) {
	in := g.instance()
	if !g.cloudInit {
		c.Close()
		return
	}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if m.User() == in.user && (string(pw) == in.password || string(pw) == g.agentPassword()) {
				return nil, nil
			}
			return nil, fmt.Errorf("wrong password")
		},
		PublicKeyCallback: func(m ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if m.User() == in.user && bytes.Equal(k.Marshal(), in.signer.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("unknown key")
		},
	}
	cfg.AddHostKey(hostKey)
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		ch, requests, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range requests {
				if req.Type != "exec" {
					_ = req.Reply(false, nil)
					continue
				}
				_ = req.Reply(true, nil)
				script, _ := io.ReadAll(ch)
				out, status := g.run(string(script))
				_, _ = io.WriteString(ch, out)
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
				return
			}
		}()
	}
}

// instance is the instance the guest was booted as.
func (g *fakeGuest) instance() *instance {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.in
}

func (g *fakeGuest) setInstance(in *instance) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.in = in
}

func (g *fakeGuest) agentPassword() string {
	pw, ok := g.d.Password(g.dom, g.instance().user)
	if !ok {
		return "\x00never"
	}
	return pw
}

// answerAgent is qemu-guest-agent: guest-ping, guest-exec and its status.
func (g *fakeGuest) answerAgent(_, command string) (string, error) {
	var cmd struct {
		Execute   string `json:"execute"`
		Arguments struct {
			InputData string `json:"input-data"`
			PID       int    `json:"pid"`
		} `json:"arguments"`
	}
	if err := json.Unmarshal([]byte(command), &cmd); err != nil {
		return "", err
	}
	switch cmd.Execute {
	case "guest-ping":
		return `{"return":{}}`, nil
	case "guest-exec":
		script, _ := base64.StdEncoding.DecodeString(cmd.Arguments.InputData)
		out, _ := g.run(string(script))
		g.mu.Lock()
		pid := len(g.execs) + 100
		g.execs[pid] = out
		g.mu.Unlock()
		return fmt.Sprintf(`{"return":{"pid":%d}}`, pid), nil
	case "guest-exec-status":
		g.mu.Lock()
		out := g.execs[cmd.Arguments.PID]
		g.mu.Unlock()
		return fmt.Sprintf(`{"return":{"exited":true,"exitcode":0,"out-data":%q}}`, base64.StdEncoding.EncodeToString([]byte(out))), nil
	}
	return "", fmt.Errorf("the command %q has not been found", cmd.Execute)
}

// run runs a script verify sends: the probe, the cloud-init wait, the
// shadow entry, the reboot.
func (g *fakeGuest) run(script string) (string, uint32) {
	switch {
	case script == probeScript:
		return g.facts(), 0
	case strings.Contains(script, "boot-finished"):
		return "", 0
	case strings.Contains(script, "/etc/shadow"):
		return g.instance().user + ":$6$" + base64.StdEncoding.EncodeToString([]byte(g.agentPassword()))[:8] + ":20000\n", 0
	case strings.Contains(script, "reboot"):
		go g.reboot()
		return "", 0
	}
	return "sh: unknown script\n", 127
}

// reboot drops every connection and comes back with the disk's new size.
func (g *fakeGuest) reboot() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
	g.boot++
}

// diskBytes is the disk as the guest sees it: the volume's capacity.
func (g *fakeGuest) diskBytes() uint64 {
	for _, name := range g.d.VolumeNames() {
		if v := g.d.Volume("default", strings.TrimPrefix(name, "default/")); v != nil && v.Path == g.diskPath {
			return v.Spec.Capacity
		}
	}
	return 0
}

// facts is what probe.sh prints on this guest.
func (g *fakeGuest) facts() string {
	in := g.instance()
	g.mu.Lock()
	boot := g.boot
	g.mu.Unlock()
	disk := g.diskBytes()
	if boot > 1 && g.grownTo != 0 && g.grownTo != disk {
		g.grownTo = 0 // a new size: growpart runs at this boot
	}
	root := uint64(2 << 30) // the image's root partition
	if g.cloudInit {
		if g.grownTo == 0 {
			g.grownTo = disk
		}
		root = g.grownTo - 1<<20
	}
	hostname := "debian12-fixture"
	if g.cloudInit {
		hostname = in.hostname
	}
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	kv("hostname", hostname)
	kv("os_id", "debian")
	kv("os_name", "Debian GNU/Linux 12 (bookworm)")
	kv("boot_id", fmt.Sprintf("boot-%d", boot))
	kv("root_source", "/dev/vda1")
	kv("root_fstype", "ext4")
	kv("root_dev", "vda1")
	kv("root_partition", "1")
	kv("root_start", "2048")
	kv("root_sectors", fmt.Sprint(root/512))
	kv("disk_dev", "vda")
	kv("disk_sectors", fmt.Sprint(disk/512))
	kv("dm_devices", "")
	kv("df_root_kib", fmt.Sprint(root/1024*98/100))
	if g.swap {
		kv("swaps", "/swapfile ")
		kv("fstab_swap", "/swapfile ")
	} else {
		kv("swaps", "")
		kv("fstab_swap", "")
	}
	if g.cloudInit {
		kv("cloud_init", "/usr/bin/cloud-init 22.4.2")
		kv("instance_id", in.uuid)
		kv("datasource", "DataSourceConfigDrive: DataSourceConfigDrive [net,ver=2][source=/dev/sr0]")
		kv("boot_finished", "yes")
	}
	kv("nic", "ens3 "+in.mac+" 10.0.2.15/24 ")
	if d := g.d.Domain(g.dom); d != nil && len(d.Attached) > 0 {
		kv("nic", "ens6 "+in.secondMAC+" 10.0.3.15/24 ")
	}
	if g.macPin != "" {
		kv("mac_pin", "/etc/udev/rules.d/70-persistent-net.rules "+g.macPin)
	}
	kv("selinux", "none")
	return b.String()
}
