// Package harness_test checks the test harness itself: libvirtd, the
// fixtures, the installer ISO's typed boot command, Packer and Glance, all
// real. Later tests stand on what these prove.
package harness_test

import (
	"slices"
	"testing"

	"github.com/digitalocean/go-libvirt"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

func domainNames(t *testing.T, l *libvirt.Libvirt) []string {
	t.Helper()
	doms, _, err := l.ConnectListAllDomains(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(doms))
	for i, d := range doms {
		names[i] = d.Name
	}
	return names
}

// go-libvirt talks to the harness's libvirtd: a domain it defines shows in
// the list, and is gone once removed.
func TestLibvirtDefinesAndListsDomains(t *testing.T) {
	l := testenv.Connect(t)
	d := testenv.Driver(t)
	name := testenv.DomainName(t)
	dom, err := d.Define(virt.Machine{Name: name, DomainType: "qemu", MemoryMiB: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Remove(dom) })
	if names := domainNames(t, l); !slices.Contains(names, name) {
		t.Fatalf("defined domain %s is not listed: %v", name, names)
	}
	if err := d.Remove(dom); err != nil {
		t.Fatal(err)
	}
	if names := domainNames(t, l); slices.Contains(names, name) {
		t.Fatalf("removed domain %s is still listed", name)
	}
}
