package libvirt

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// domainState is the state stepDefineDomain finds after the disk and the
// staged files.
func domainState(t *testing.T, c *Config) *stepTest {
	t.Helper()
	st := newStepTest(t, c)
	vol, err := st.d.CreateVolume("default", virt.VolumeSpec{Name: c.VMName + ".qcow2", Format: "qcow2", Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	st.state.Put("disk_volume", vol)
	st.state.Put("iso_host_path", "/isos/install.iso")
	st.state.Put("cd_host_path", "/tmp/cidata.iso")
	st.state.Put("floppy_host_path", "/tmp/floppy.img")
	return st
}

// The domain a user would see in virsh dumpxml: the disk first in the boot
// order, the ISO second, the CD and the floppy, VNC, and with user-mode
// networking a free host port forwarded to the guest's SSH port, held
// until the domain starts.
func TestStepDefineDomain(t *testing.T) {
	c := stepConfig(t, map[string]interface{}{"vm_name": "web", "host_port_min": 30000, "host_port_max": 30999})
	st := domainState(t, c)
	s := &stepDefineDomain{config: c}
	st.run(s, multistep.ActionContinue)

	dom := st.d.Domain("web")
	if dom == nil || dom.State != fake.Defined {
		t.Fatalf("domain web: %+v; want defined, not started", dom)
	}
	m := dom.Machine
	var got []string
	for _, d := range m.Disks {
		got = append(got, fmt.Sprintf("%s %s %s boot=%d", d.Device, d.Format, d.Path, d.BootOrder))
	}
	want := []string{
		" qcow2 " + st.state.Get("disk_volume").(virt.Volume).Path + " boot=1",
		"cdrom raw /isos/install.iso boot=2",
		"cdrom raw /tmp/cidata.iso boot=0",
		"floppy raw /tmp/floppy.img boot=0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("disks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.VNC == nil || m.VNC.Password != c.VNCPassword {
		t.Errorf("VNC %+v, want one with the build's password", m.VNC)
	}
	port := st.state.Get("comm_port").(int)
	if port < 30000 || port > 30999 || st.state.Get("comm_host") != "127.0.0.1" {
		t.Errorf("communicator at %v:%d, want 127.0.0.1 and a port of 30000-30999", st.state.Get("comm_host"), port)
	}
	if m.NIC.User == nil || len(m.NIC.User.Forwards) != 1 || m.NIC.User.Forwards[0] != (virt.Forward{HostAddr: "127.0.0.1", HostPort: port, GuestPort: 22}) {
		t.Errorf("user networking %+v, want 127.0.0.1:%d forwarded to 22", m.NIC.User, port)
	}
	// Held: another build cannot take the port before QEMU does.
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		l.Close()
		t.Errorf("port %d is free before the domain starts", port)
	}
	for _, k := range []string{"VMName", "DomainType", "DiskFormat", "OutputDir"} {
		if _, ok := st.state.Get("generated_data").(map[string]interface{})[k]; !ok {
			t.Errorf("${build.%s} is not set for the provisioners", k)
		}
	}

	// A later step fails: cleanup forces the domain off and frees the
	// port; the claim's cleanup, last, removes the domain.
	s.Cleanup(st.state)
	if st.d.Called("Destroy", "web") != 1 || st.d.Called("Remove") != 0 {
		t.Errorf("after cleanup: calls %v", st.d.Calls)
	}
	if err := st.state.Get("owned").(*virt.Owned).Release(); err != nil {
		t.Fatal(err)
	}
	if names := st.d.DomainNames(); len(names) != 0 {
		t.Errorf("after the release: domains %v", names)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Errorf("after cleanup port %d is still held: %v", port, err)
	} else {
		l.Close()
	}
}

// The NIC follows network_mode; without a communicator nothing is
// forwarded.
func TestStepDefineDomainNetworks(t *testing.T) {
	for _, tc := range []struct {
		overrides map[string]interface{}
		check     func(n *virt.NIC) bool
	}{
		{map[string]interface{}{"network_mode": "network", "network": "builds"}, func(n *virt.NIC) bool { return n.Network == "builds" && n.User == nil }},
		{map[string]interface{}{"network_mode": "bridge", "network_bridge": "br0"}, func(n *virt.NIC) bool { return n.Bridge == "br0" && n.User == nil }},
		{map[string]interface{}{"communicator": "none", "ssh_username": del}, func(n *virt.NIC) bool { return n.User != nil && len(n.User.Forwards) == 0 }},
	} {
		c := stepConfig(t, merge(map[string]interface{}{"vm_name": "web"}, tc.overrides))
		st := domainState(t, c)
		st.run(&stepDefineDomain{config: c}, multistep.ActionContinue)
		if n := st.d.Domain("web").Machine.NIC; !tc.check(n) {
			t.Errorf("%v: NIC %+v", tc.overrides, n)
		}
		if _, ok := st.state.GetOk("forwards"); ok != (c.NetworkMode == virt.NetworkUser && c.Comm.Type != "none") {
			t.Errorf("%v: forwards reserved: %v", tc.overrides, ok)
		}
	}
}

func TestStepDefineDomainFails(t *testing.T) {
	c := stepConfig(t, map[string]interface{}{"vm_name": "web"})
	st := domainState(t, c)
	st.d.Errs["Define"] = errors.New("defining domain web: unsupported configuration: IDE controllers are unsupported for this QEMU binary or machine type")
	s := &stepDefineDomain{config: c}
	st.run(s, multistep.ActionHalt)
	if !st.ui.ErrorSaid("IDE controllers are unsupported") {
		t.Errorf("the user saw %q", st.ui.Errors())
	}
	s.Cleanup(st.state)
	if n := st.d.Called("Remove") + st.d.Called("Destroy"); n != 0 {
		t.Errorf("Remove or Destroy called %d times: cleanup touched a domain it never defined", n)
	}
	port := st.state.Get("comm_port").(int)
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Errorf("after the failure port %d is still held: %v", port, err)
	} else {
		l.Close()
	}
}

// The domain starts with its console streamed into console.log from the
// first line, the forwarded port released for QEMU, and the VNC port
// known for the boot command.
func TestStepStartDomain(t *testing.T) {
	c := stepConfig(t, map[string]interface{}{"vm_name": "web", "output_directory": t.TempDir(), "packer_force": true})
	st := domainState(t, c)
	st.d.ConsoleOutput = "SeaBIOS (version 1.16.2-debian-1.16.2-1)\n"
	st.d.VNC = 5903
	define := &stepDefineDomain{config: c}
	st.run(define, multistep.ActionContinue)
	port := st.state.Get("comm_port").(int)

	s := &stepStartDomain{config: c}
	st.run(s, multistep.ActionContinue)
	if got := st.d.Domain("web").State; got != fake.Running {
		t.Errorf("domain state %s, want running", got)
	}
	logPath := st.state.Get("console_log").(string)
	if logPath != c.OutputDir+"/console.log" || readFile(t, logPath) != st.d.ConsoleOutput {
		t.Errorf("console log %s holds %q, want %q", logPath, readFile(t, logPath), st.d.ConsoleOutput)
	}
	if st.state.Get("vnc_port") != 5903 || !st.ui.Said("VNC: 127.0.0.1:5903") {
		t.Errorf("vnc_port %v; said %q", st.state.Get("vnc_port"), st.ui.Lines())
	}
	if st.ui.Said(c.VNCPassword) {
		t.Errorf("the VNC password is shown without -debug: %q", st.ui.Lines())
	}
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Errorf("port %d is still held once the domain runs: QEMU could not take it: %v", port, err)
	} else {
		l.Close()
	}

	s.Cleanup(st.state)
	define.Cleanup(st.state)
	if st.d.Called("Detach", "web") != 1 || st.d.Domain("web").State != fake.Defined {
		t.Errorf("after cleanup: calls %v, domain %+v", st.d.Calls, st.d.Domain("web"))
	}
}

func TestStepStartDomainFails(t *testing.T) {
	for _, method := range []string{"Start", "VNCPort"} {
		c := stepConfig(t, map[string]interface{}{"vm_name": "web", "output_directory": t.TempDir(), "packer_force": true})
		st := domainState(t, c)
		st.run(&stepDefineDomain{config: c}, multistep.ActionContinue)
		st.d.Errs[method] = errors.New(method + " failed")
		s := &stepStartDomain{config: c}
		st.run(s, multistep.ActionHalt)
		if !st.ui.ErrorSaid(method + " failed") {
			t.Errorf("%s: the user saw %q", method, st.ui.Errors())
		}
		s.Cleanup(st.state)
	}
}
