package virt

import (
	"errors"
	"fmt"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// GuestAddress returns the guest's IPv4 address, asking in turn the DHCP
// leases of its libvirt networks, the QEMU guest agent, and the host's ARP
// table; source says which answered. It errors while no source knows an
// address yet; callers poll.
func (d *Libvirt) GuestAddress(dom Domain) (addr, source string, err error) {
	var tried []error
	if addr, err := d.leaseAddress(dom); err == nil {
		return addr, "DHCP leases", nil
	} else {
		tried = append(tried, fmt.Errorf("DHCP leases: %w", err))
	}
	sources := []struct {
		name string
		src  libvirt.DomainInterfaceAddressesSource
	}{
		{"guest agent", libvirt.DomainInterfaceAddressesSrcAgent},
		{"ARP table", libvirt.DomainInterfaceAddressesSrcArp},
	}
	for _, s := range sources {
		ifaces, err := d.conn.DomainInterfaceAddresses(dom, uint32(s.src), 0)
		if err != nil {
			tried = append(tried, fmt.Errorf("%s: %w", s.name, err))
			continue
		}
		for _, iface := range ifaces {
			if iface.Name == "lo" {
				continue
			}
			for _, a := range iface.Addrs {
				if a.Type == int32(libvirt.IPAddrTypeIpv4) {
					return a.Addr, s.name, nil
				}
			}
		}
		tried = append(tried, fmt.Errorf("%s: no IPv4 address yet", s.name))
	}
	return "", "", fmt.Errorf("no guest address: %v", errors.Join(tried...))
}

// leaseAddress is the address of the newest DHCP lease that the domain's
// libvirt networks hold for its MAC addresses. A guest that reboots from an
// installer into the installed system asks again with a new client id and
// gets a second address, while the installer's lease stays until it
// expires; libvirt's own lease source lists both, oldest first.
func (d *Libvirt) leaseAddress(dom Domain) (string, error) {
	x, err := d.domainXML(dom)
	if err != nil {
		return "", err
	}
	var leases []libvirt.NetworkDhcpLease
	for _, iface := range x.Devices.Interfaces {
		if iface.Source == nil || iface.Source.Network == nil || iface.MAC == nil {
			continue
		}
		n, err := d.conn.NetworkLookupByName(iface.Source.Network.Network)
		if err != nil {
			return "", err
		}
		got, _, err := d.conn.NetworkGetDhcpLeases(n, libvirt.OptString{iface.MAC.Address}, 1, 0)
		if err != nil {
			return "", err
		}
		leases = append(leases, got...)
	}
	if addr, ok := newestLease(leases); ok {
		return addr, nil
	}
	return "", errors.New("no lease yet")
}

// newestLease picks the IPv4 lease that expires last (the latest one, as
// every lease of a network lasts as long); of equals, the last listed.
func newestLease(leases []libvirt.NetworkDhcpLease) (string, bool) {
	var best *libvirt.NetworkDhcpLease
	for i, le := range leases {
		if le.Type != int32(libvirt.IPAddrTypeIpv4) {
			continue
		}
		if best == nil || le.Expirytime >= best.Expirytime {
			best = &leases[i]
		}
	}
	if best == nil {
		return "", false
	}
	return best.Ipaddr, true
}

// NetworkAddress returns the host's address on a libvirt network (its
// bridge's IPv4 address), which guests on that network reach the host by.
func (d *Libvirt) NetworkAddress(name string) (string, error) {
	n, err := d.conn.NetworkLookupByName(name)
	if err != nil {
		return "", fmt.Errorf("libvirt network %q: %w", name, err)
	}
	x, err := d.conn.NetworkGetXMLDesc(n, 0)
	if err != nil {
		return "", err
	}
	var net libvirtxml.Network
	if err := net.Unmarshal(x); err != nil {
		return "", err
	}
	for _, ip := range net.IPs {
		if ip.Family == "" || ip.Family == "ipv4" {
			return ip.Address, nil
		}
	}
	return "", fmt.Errorf("libvirt network %q has no IPv4 address", name)
}
