package step

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Connect is the first step of the builder and of cloudimage-verify: it
// opens the libvirt driver (state "driver"), settles domain_type "auto"
// and checks the storage pool, before anything is downloaded or made.
// Cleanup closes the driver.
type Connect struct {
	URI, Pool string
	// DomainType is the configured domain_type, settled in place.
	DomainType *string
	// Dial opens the driver: Libvirt, or a fake in unit tests.
	Dial func(uri string) (virt.Driver, error)
	// Check, when set, judges the settled domain type with the settings
	// that depend on it.
	Check func(domainType string) error

	driver virt.Driver
}

// Libvirt dials the real driver.
func Libvirt(uri string) (virt.Driver, error) { return virt.Dial(uri) }

func (s *Connect) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	ui.Say(fmt.Sprintf("Connecting to libvirt at %s...", virt.Redact(s.URI)))
	d, err := s.Dial(s.URI)
	if err != nil {
		return Halt(state, err)
	}
	s.driver = d
	state.Put("driver", d)
	if l, ok := d.(interface{ OnLost(func(error)) }); ok {
		l.OnLost(func(err error) { ui.Error(err.Error()) })
	}
	if *s.DomainType == "auto" {
		var why string
		*s.DomainType, why = d.ResolveDomainType(ctx, *s.DomainType)
		ui.Say(fmt.Sprintf("domain_type auto: using %s: %s", *s.DomainType, why))
		if s.Check != nil {
			if err := s.Check(*s.DomainType); err != nil {
				return Halt(state, fmt.Errorf("domain_type auto chose %s here (%s): %w", *s.DomainType, why, err))
			}
		}
	}
	if err := d.CheckPool(s.Pool); err != nil {
		return Halt(state, err)
	}
	return multistep.ActionContinue
}

func (s *Connect) Cleanup(multistep.StateBag) {
	if s.driver != nil {
		_ = s.driver.Close()
	}
}
