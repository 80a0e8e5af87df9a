package step

import (
	"context"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Claim follows Connect in the builder and in cloudimage-verify: it takes
// the domain name for this build (virt.Claim) before anything is
// downloaded or made, and puts the virt.Owned every later step creates
// domains and volumes through under "owned". Cleanup, the last to run,
// removes the domain and every volume still listed in its mark, unless
// Keep says to leave them for debugging.
type Claim struct {
	Name, Component string
	// DomainType is domain_type, settled by Connect.
	DomainType *string
	// Force is -force: a leftover of an interrupted build of the same
	// name is removed instead of stopping the build.
	Force bool
	// Keep, when set, reports whether cleanup leaves what the build made.
	Keep func(multistep.StateBag) bool

	owned *virt.Owned
}

func (s *Claim) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	d := state.Get("driver").(virt.Driver)
	o, err := virt.Claim(d, s.Name, *s.DomainType, s.Component, s.Force, ui.Say)
	if err != nil {
		return Halt(state, err)
	}
	s.owned = o
	state.Put("owned", o)
	return multistep.ActionContinue
}

func (s *Claim) Cleanup(state multistep.StateBag) {
	if s.owned == nil {
		return
	}
	if s.Keep != nil && s.Keep(state) {
		return // the step that left the domain running says so
	}
	if err := s.owned.Release(); err != nil {
		state.Get("ui").(packersdk.Ui).Error(err.Error())
	}
}
