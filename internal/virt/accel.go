package virt

import (
	"context"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/kvm"
)

// ResolveDomainType settles domain_type "auto": kvm where the host offers
// it and, on this machine, where a probe guest actually runs under it;
// qemu (software emulation) otherwise. Other values are returned as they
// are. why says what decided.
func (d *Libvirt) ResolveDomainType(ctx context.Context, domainType string) (typ, why string) {
	if domainType != "auto" {
		return domainType, "as configured"
	}
	if !kvmOffered(d.conn.Libvirt) {
		return "qemu", "libvirt offers no kvm domains"
	}
	if !IsLocal(d.uri) {
		return "kvm", "libvirt offers kvm domains"
	}
	// libvirt offers kvm wherever /dev/kvm exists, also where nested KVM
	// hangs its guests; on this machine a probe can tell.
	ok, reason := kvm.Usable(ctx)
	if !ok {
		return "qemu", kvm.Unusable("the domain")
	}
	return "kvm", reason
}

// kvmOffered reports whether the host offers the kvm domain type for
// x86_64 guests.
func kvmOffered(conn *libvirt.Libvirt) bool {
	x, err := conn.ConnectGetCapabilities()
	if err != nil {
		return false
	}
	var caps libvirtxml.Caps
	if caps.Unmarshal(x) != nil {
		return false
	}
	for _, g := range caps.Guests {
		if g.Arch.Name != "x86_64" {
			continue
		}
		for _, d := range g.Arch.Domains {
			if d.Type == "kvm" {
				return true
			}
		}
	}
	return false
}
