package virt

import (
	"testing"

	"github.com/digitalocean/go-libvirt"
)

func lease(ip string, expiry int64, typ libvirt.IPAddrType) libvirt.NetworkDhcpLease {
	return libvirt.NetworkDhcpLease{Ipaddr: ip, Expirytime: expiry, Type: int32(typ)}
}

// The installer's lease and the installed system's, for one MAC: the
// communicator must go to the newer one.
func TestNewestLease(t *testing.T) {
	v4, v6 := libvirt.IPAddrTypeIpv4, libvirt.IPAddrTypeIpv6
	for _, tc := range []struct {
		name   string
		leases []libvirt.NetworkDhcpLease
		want   string
	}{
		{"none", nil, ""},
		{"one", []libvirt.NetworkDhcpLease{lease("192.168.122.9", 100, v4)}, "192.168.122.9"},
		{"installer then system", []libvirt.NetworkDhcpLease{lease("192.168.122.109", 100, v4), lease("192.168.122.110", 185, v4)}, "192.168.122.110"},
		{"listed newest first", []libvirt.NetworkDhcpLease{lease("192.168.122.110", 185, v4), lease("192.168.122.109", 100, v4)}, "192.168.122.110"},
		{"same expiry: last listed", []libvirt.NetworkDhcpLease{lease("10.0.0.1", 100, v4), lease("10.0.0.2", 100, v4)}, "10.0.0.2"},
		{"IPv6 only", []libvirt.NetworkDhcpLease{lease("fd00::9", 100, v6)}, ""},
		{"IPv6 newer than IPv4", []libvirt.NetworkDhcpLease{lease("10.0.0.1", 100, v4), lease("fd00::9", 200, v6)}, "10.0.0.1"},
	} {
		got, ok := newestLease(tc.leases)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: newestLease = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}
