package sysprep

import (
	"context"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/kvm"
)

// libguestfsEnv is the environment that runs the appliance with the chosen
// backend and accelerator: force_tcg where KVM is unusable (accelerator
// "auto" asks the KVM probe) or where the user asked for it.
func (c *Config) libguestfsEnv(ctx context.Context, ui packersdk.Ui) []string {
	var env []string
	if c.LibguestfsBackend != "" {
		env = append(env, "LIBGUESTFS_BACKEND="+c.LibguestfsBackend)
	}
	tcg := c.Accelerator == "tcg"
	if c.Accelerator == "auto" {
		ok, why := kvm.Usable(ctx)
		tcg = !ok
		if tcg {
			ui.Say(kvm.Unusable("libguestfs"))
		} else {
			ui.Say("libguestfs: KVM: " + why)
		}
	}
	if tcg {
		env = append(env, "LIBGUESTFS_BACKEND_SETTINGS=force_tcg")
	}
	return env
}
