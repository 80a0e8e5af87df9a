package harness_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/bootcommand"
	"github.com/mitchellh/go-vnc"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// The installer ISO, given a command line typed over VNC at its boot:
// prompt, fetches a ks file over HTTP from a server on the host's loopback,
// writes the disk image the file names, sets the root password the file
// gives, and reboots into the installed system, which answers SSH with that
// password. This is the ISO -> boot command -> HTTP -> SSH path the builder
// drives.
func TestInstallerISOInstallsOverHTTP(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO", "CLOUDIMAGE_FIXTURE_RAWGZ")
	iso, rawgz := env[0], env[1]
	l := testenv.Connect(t)
	dir := testenv.VMDir(t)
	disk := filepath.Join(dir, "disk.qcow2")
	testenv.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", disk, "2G")

	// The ks file and the image, served on loopback; slirp shows the host's
	// loopback to the guest as 10.0.2.2.
	password := "pw-" + testenv.RandomHex(t, 6)
	var mu sync.Mutex
	var served []string
	mux := http.NewServeMux()
	mux.HandleFunc("/ks.cfg", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# written by %s\nimage debian12.raw.gz\nrootpw %s\nreboot\n", t.Name(), password)
	})
	mux.HandleFunc("/debian12.raw.gz", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, rawgz)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.Method+" "+r.URL.Path)
		mu.Unlock()
		mux.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	httpPort := ln.Addr().(*net.TCPAddr).Port

	sshPort := testenv.FreePort(t)
	vncPassword := testenv.RandomHex(t, 4) // VNC passwords are at most 8 characters
	m := virt.Machine{
		Name: testenv.DomainName(t), DomainType: "qemu", MemoryMiB: 1024, CPUs: 2,
		Disks: []virt.Disk{
			// The empty disk first: the BIOS passes over it to the CD, and
			// boots the installed system from it after the installer's reboot.
			{Path: disk, BootOrder: 1},
			{Path: iso, Device: "cdrom", Bus: "ide", Format: "raw", BootOrder: 2},
		},
		VNC:       &virt.VNC{Password: vncPassword},
		SerialLog: filepath.Join(dir, "console.log"),
		NIC:       &virt.NIC{User: &virt.UserNet{Forwards: []virt.Forward{{HostAddr: "127.0.0.1", HostPort: sshPort, GuestPort: 22}}}},
	}
	start := time.Now()
	dom := testenv.StartMachine(t, l, m)

	// isolinux echoes its prompt to the serial console too.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := testenv.WaitForFile(ctx, m.SerialLog, []byte("boot:")); err != nil {
		t.Fatalf("no isolinux prompt: %v\n%s", err, testenv.Tail(m.SerialLog))
	}
	t.Logf("boot: prompt after %s", time.Since(start).Round(time.Second))

	xml, err := l.DomainGetXMLDesc(dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	vncPort, err := virt.VNCPort(xml)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", vncPort))
	if err != nil {
		t.Fatal(err)
	}
	client, err := vnc.Client(conn, &vnc.ClientConfig{Auth: []vnc.ClientAuth{&vnc.PasswordAuth{Password: vncPassword}}})
	if err != nil {
		t.Fatalf("VNC handshake on port %d: %v", vncPort, err)
	}
	seq, err := bootcommand.GenerateExpressionSequence(fmt.Sprintf("install ks=http://10.0.2.2:%d/ks.cfg<enter>", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	if err := seq.Do(ctx, bootcommand.NewVNCDriver(client, 20*time.Millisecond)); err != nil {
		t.Fatalf("typing the boot command: %v", err)
	}
	client.Close()

	c := testenv.WaitForSSH(t, l, dom, sshPort, password, m.SerialLog, 10*time.Minute)
	defer c.Close()
	t.Logf("SSH login into the installed system %s after start", time.Since(start).Round(time.Second))

	log, _ := os.ReadFile(m.SerialLog)
	for _, want := range []string{"cloudimage-installer: image written", "cloudimage-installer: root password set", "cloudimage-installer: done, reboot"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("serial log lacks %q", want)
		}
	}
	mu.Lock()
	got := strings.Join(served, ", ")
	mu.Unlock()
	if got != "GET /ks.cfg, GET /debian12.raw.gz" {
		t.Errorf("HTTP requests = %q, want the ks file then the image", got)
	}
	if got := testenv.SSHRun(t, c, "findmnt -n -o SOURCE /"); got != "/dev/vda1" {
		t.Errorf("installed root is %q, want /dev/vda1", got)
	}
}
