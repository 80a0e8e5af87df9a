package libvirt

import (
	"context"
	"fmt"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

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

	if c.DomainType == "auto" {
		var why string
		c.DomainType, why = virt.ResolveDomainType(ctx, conn, c.LibvirtURI, c.DomainType)
		ui.Say(fmt.Sprintf("domain_type auto: using %s (%s)", c.DomainType, why))
	}
	putData(state, "VMName", c.VMName)
	putData(state, "DomainType", c.DomainType)
	putData(state, "DiskFormat", c.DiskFormat)
	putData(state, "OutputDir", c.OutputDir)
	pool, err := virt.Pool(conn, c.StoragePool)
	if err != nil {
		return halt(state, err)
	}
	state.Put("pool", pool)
	return multistep.ActionContinue
}

func (s *stepConnect) Cleanup(multistep.StateBag) {
	if s.conn != nil {
		s.conn.Disconnect()
	}
}

// halt records err for Packer and stops the build.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put("error", err)
	state.Get("ui").(packersdk.Ui).Error(err.Error())
	return multistep.ActionHalt
}
