package step_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

func run(t *testing.T, s *step.Connect) (multistep.StepAction, *multistep.BasicStateBag, *uitest.UI) {
	t.Helper()
	ui := uitest.New()
	state := new(multistep.BasicStateBag)
	state.Put("ui", ui)
	return s.Run(context.Background(), state), state, ui
}

// The first step of the builder and of verify: the driver in the state,
// domain_type "auto" settled and said, the pool checked; cleanup closes.
func TestConnect(t *testing.T) {
	d := fake.New(t.TempDir())
	d.DomainType = "qemu"
	typ := "auto"
	s := &step.Connect{URI: "qemu:///system", Pool: "default", DomainType: &typ, Dial: func(uri string) (virt.Driver, error) { return d, nil }}
	action, state, ui := run(t, s)
	if action != multistep.ActionContinue || state.Get("driver") != virt.Driver(d) {
		t.Fatalf("action %v, driver %v", action, state.Get("driver"))
	}
	if typ != "qemu" || !ui.Said("domain_type auto: using qemu") {
		t.Errorf("domain_type %q; said %q", typ, ui.Lines())
	}
	s.Cleanup(state)
	if d.Called("Close") != 1 {
		t.Errorf("calls %v: the driver was not closed", d.Calls)
	}
}

func TestConnectFails(t *testing.T) {
	kvm := "kvm"
	for name, tc := range map[string]struct {
		dial func(string) (virt.Driver, error)
		want string
	}{
		"no daemon": {func(string) (virt.Driver, error) {
			return nil, errors.New("connecting to libvirt at qemu:///system: dial unix /var/run/libvirt/libvirt-sock: connect: no such file or directory")
		}, "no such file"},
		"no pool": {func(string) (virt.Driver, error) { return fake.New(t.TempDir()), nil }, `storage_pool "images"`},
	} {
		s := &step.Connect{URI: "qemu:///system", Pool: "images", DomainType: &kvm, Dial: tc.dial}
		action, state, ui := run(t, s)
		if action != multistep.ActionHalt || !ui.ErrorSaid(tc.want) {
			t.Errorf("%s: action %v, errors %q", name, action, ui.Errors())
		}
		s.Cleanup(state)
	}
	if kvm != "kvm" {
		t.Errorf("domain_type kvm became %q", kvm)
	}
}
