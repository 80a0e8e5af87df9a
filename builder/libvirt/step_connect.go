package libvirt

import (
	"context"
	"fmt"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"libvirt.org/go/libvirtxml"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/kvm"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepConnect opens the libvirt connection, settles domain_type = "auto",
// and checks the storage pool, before anything is downloaded.
type stepConnect struct {
	config *Config
	conn   *libvirt.Libvirt
}

func (s *stepConnect) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	c := s.config
	ui.Say(fmt.Sprintf("Connecting to libvirt at %s...", c.LibvirtURI))
	conn, err := virt.Connect(c.LibvirtURI)
	if err != nil {
		return halt(state, err)
	}
	s.conn = conn
	state.Put("libvirt", conn)

	var why string
	if c.DomainType == "auto" {
		c.DomainType, why = "qemu", "libvirt offers no kvm domains"
		if kvmAvailable(conn) {
			c.DomainType, why = "kvm", "libvirt offers kvm domains"
			// libvirt offers kvm wherever /dev/kvm exists, also where nested
			// KVM hangs its guests; on this machine a probe can tell.
			if virt.IsLocal(c.LibvirtURI) {
				ok, reason := kvm.Usable(ctx)
				if !ok {
					c.DomainType = "qemu"
				}
				why = reason
			}
		}
		ui.Say(fmt.Sprintf("domain_type auto: using %s (%s)", c.DomainType, why))
	}
	putData(state, "VMName", c.VMName)
	putData(state, "DomainType", c.DomainType)
	putData(state, "DiskFormat", c.DiskFormat)
	putData(state, "OutputDir", c.OutputDir)
	pool, err := conn.StoragePoolLookupByName(c.StoragePool)
	if err != nil {
		return halt(state, fmt.Errorf("storage_pool %q: %w", c.StoragePool, err))
	}
	if active, err := conn.StoragePoolIsActive(pool); err != nil || active == 0 {
		return halt(state, fmt.Errorf("storage_pool %q is not active (virsh pool-start %s)", c.StoragePool, c.StoragePool))
	}
	state.Put("pool", pool)
	return multistep.ActionContinue
}

func (s *stepConnect) Cleanup(multistep.StateBag) {
	if s.conn != nil {
		s.conn.Disconnect()
	}
}

// kvmAvailable reports whether the host offers the kvm domain type for
// x86_64 guests.
func kvmAvailable(conn *libvirt.Libvirt) bool {
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

// halt records err for Packer and stops the build.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put("error", err)
	state.Get("ui").(packersdk.Ui).Error(err.Error())
	return multistep.ActionHalt
}
