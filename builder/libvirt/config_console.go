//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/bootcommand"
	"github.com/zclconf/go-cty/cty"
)

// ConsoleConfig is the VNC console the boot command is typed on.
type ConsoleConfig struct {
	// The address VNC listens on. Defaults to `127.0.0.1`; set `0.0.0.0` to
	// watch the install from another machine.
	VNCBindAddress string `mapstructure:"vnc_bind_address"`
	// The VNC password (at most 8 characters, as VNC allows). Defaults to a
	// random one, which `-debug` prints; it never appears in logs.
	VNCPassword string `mapstructure:"vnc_password"`
	// The boot command as named steps: a list of `["keys", "description"]`
	// pairs, typed in order, each announced in the UI by its description.
	// An alternative to `boot_command`.
	BootSteps [][]string `mapstructure:"boot_steps"`
	// How the boot command reaches the guest's keyboard. `libvirt` (the
	// default) sends each key through libvirt's connection (QMP
	// `input-send-event`): it needs no VNC port reachable from the Packer
	// host, so it works over `qemu+ssh` as on the local host, and types at
	// a default `boot_key_interval` of 20ms per key. `vnc` types on the
	// domain's VNC console, as Packer's QEMU builder does (100ms per key
	// event by default); a remote host's VNC must then listen where this
	// machine reaches it (`vnc_bind_address`).
	BootKeyTransport string `mapstructure:"boot_key_transport"`
	// With `boot_wait = "auto"`: how long the screen must stay still (a
	// blinking cursor or a countdown's digits aside) before the boot
	// command is typed. Defaults to `2s`, enough for a boot loader's menu
	// or prompt; a prompt that comes after a kernel's boot (whose quiet
	// phases are still screens too) needs `5s` or more.
	BootWaitSettle time.Duration `mapstructure:"boot_wait_settle"`
	// With `boot_wait = "auto"`: how long to wait for the screen to be
	// ready before the build fails. Defaults to `5m`.
	BootWaitTimeout time.Duration `mapstructure:"boot_wait_timeout"`

	// bootWaitAuto: boot_wait = "auto" (taken out of the raw configuration
	// before the SDK decodes boot_wait as a duration).
	bootWaitAuto bool
}

// The boot_key_transport values.
const (
	transportLibvirt = "libvirt"
	transportVNC     = "vnc"
)

func (c *ConsoleConfig) prepare(vnc *bootcommand.VNCConfig, video string) []error {
	var errs []error
	if c.BootWaitSettle < 0 {
		errs = append(errs, fmt.Errorf("boot_wait_settle %s: must not be negative", c.BootWaitSettle))
	}
	if c.BootWaitTimeout < 0 {
		errs = append(errs, fmt.Errorf("boot_wait_timeout %s: must not be negative", c.BootWaitTimeout))
	}
	c.BootWaitSettle = cmp.Or(c.BootWaitSettle, 2*time.Second)
	c.BootWaitTimeout = cmp.Or(c.BootWaitTimeout, 5*time.Minute)
	if c.bootWaitAuto && video == "none" {
		errs = append(errs, errors.New("boot_wait = \"auto\" watches the screen: it needs a video device (video = \"none\")"))
	}
	c.VNCBindAddress = cmp.Or(c.VNCBindAddress, "127.0.0.1")
	if net.ParseIP(c.VNCBindAddress) == nil {
		errs = append(errs, fmt.Errorf("vnc_bind_address %q is not an IP address", c.VNCBindAddress))
	}
	if len(c.VNCPassword) > 8 {
		errs = append(errs, errors.New("vnc_password: VNC passwords are at most 8 characters"))
	}
	if c.VNCPassword == "" {
		c.VNCPassword = rand.Text()[:8]
	}
	if len(c.BootSteps) > 0 && len(vnc.BootCommand) > 0 {
		errs = append(errs, errors.New("boot_steps: set boot_command or boot_steps, not both"))
	}
	for i, step := range c.BootSteps {
		if len(step) < 1 || len(step) > 2 {
			errs = append(errs, fmt.Errorf("boot_steps[%d]: want [\"keys\", \"description\"], got %d elements", i, len(step)))
			continue
		}
		if _, err := bootcommand.GenerateExpressionSequence(step[0]); err != nil {
			errs = append(errs, fmt.Errorf("boot_steps[%d]: %w", i, err))
		}
	}
	switch c.BootKeyTransport = cmp.Or(c.BootKeyTransport, transportLibvirt); c.BootKeyTransport {
	case transportLibvirt, transportVNC:
	default:
		errs = append(errs, fmt.Errorf("boot_key_transport %q: want %q or %q", c.BootKeyTransport, transportLibvirt, transportVNC))
	}
	if vnc.DisableVNC && c.BootKeyTransport == transportVNC && (len(vnc.BootCommand) > 0 || len(c.BootSteps) > 0) {
		errs = append(errs, errors.New("disable_vnc: boot_key_transport \"vnc\" types the boot command on VNC; keep VNC or use boot_key_transport \"libvirt\""))
	}
	return errs
}

// steps returns the boot command as [keys, description] steps.
func (c *ConsoleConfig) steps(vnc *bootcommand.VNCConfig) [][]string {
	if len(c.BootSteps) > 0 {
		return c.BootSteps
	}
	if len(vnc.BootCommand) == 0 {
		return nil
	}
	return [][]string{{vnc.FlatBootCommand()}}
}

// takeBootWaitAuto takes boot_wait = "auto" out of the raw configurations
// (the SDK decodes boot_wait as a duration) and says whether one had it.
// A raw configuration is a cty object (HCL2 templates) or a map (JSON);
// neither is changed.
func takeBootWaitAuto(raws []interface{}) ([]interface{}, bool) {
	auto := false
	out := make([]interface{}, len(raws))
	for i, raw := range raws {
		out[i] = raw
		switch r := raw.(type) {
		case cty.Value:
			if !r.IsKnown() || r.IsNull() || !r.Type().IsObjectType() || !r.Type().HasAttribute("boot_wait") {
				continue
			}
			if v := r.GetAttr("boot_wait"); v.IsKnown() && !v.IsNull() && v.Type() == cty.String && v.AsString() == "auto" {
				auto = true
				attrs := r.AsValueMap()
				attrs["boot_wait"] = cty.NullVal(cty.String)
				out[i] = cty.ObjectVal(attrs)
			}
		case map[string]interface{}:
			if r["boot_wait"] != "auto" {
				continue
			}
			auto = true
			c := make(map[string]interface{}, len(r))
			for k, v := range r {
				if k != "boot_wait" {
					c[k] = v
				}
			}
			out[i] = c
		}
	}
	return out, auto
}
