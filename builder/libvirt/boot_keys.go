package libvirt

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/bootcommand"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// libvirtKeyInterval is the pause after each key typed through libvirt
// when neither boot_key_interval nor PACKER_KEY_INTERVAL sets one: the
// shortest interval at which the fixture installer's isolinux prompt,
// under software emulation, received every key of its boot command in
// 20 builds in a row (docs/builders/libvirt.mdx, "Typing the boot
// command").
const libvirtKeyInterval = 20 * time.Millisecond

// libvirtKeys types a boot command through libvirt (virt.Driver.SendKeys),
// as a bootcommand.BCDriver: a key press is one call, with its release
// (and shift around it for a shifted character) in the same call; a held
// key (<leftShiftOn>) and its release are a call each. After each call it
// waits interval, the time the guest gets to take the key.
type libvirtKeys struct {
	ctx      context.Context
	driver   virt.Driver
	dom      virt.Domain
	interval time.Duration
}

// keyInterval is the pause after each key: boot_key_interval, else
// PACKER_KEY_INTERVAL (as the SDK's drivers read it), else def.
func keyInterval(configured, def time.Duration) time.Duration {
	if configured > 0 {
		return configured
	}
	if d, err := time.ParseDuration(os.Getenv(bootcommand.PackerKeyEnv)); err == nil && d >= 0 {
		return d
	}
	return def
}

func (k *libvirtKeys) SendKey(r rune, action bootcommand.KeyAction) error {
	code, shift, ok := virt.CharKey(r)
	if !ok {
		return fmt.Errorf("no key of a US keyboard types %q", r)
	}
	var events []virt.KeyEvent
	if shift && action != bootcommand.KeyOff {
		events = append(events, virt.KeyEvent{QCode: "shift", Down: true})
	}
	events = append(events, k.events(code, action)...)
	if shift && action != bootcommand.KeyOn {
		events = append(events, virt.KeyEvent{QCode: "shift"})
	}
	return k.send(events)
}

func (k *libvirtKeys) SendSpecial(special string, action bootcommand.KeyAction) error {
	code, ok := virt.SpecialKey(special)
	if !ok {
		return fmt.Errorf("no key for <%s>", special)
	}
	return k.send(k.events(code, action))
}

// events are the events of action on the key code.
func (k *libvirtKeys) events(code string, action bootcommand.KeyAction) []virt.KeyEvent {
	switch action {
	case bootcommand.KeyOn:
		return []virt.KeyEvent{{QCode: code, Down: true}}
	case bootcommand.KeyOff:
		return []virt.KeyEvent{{QCode: code}}
	}
	return []virt.KeyEvent{{QCode: code, Down: true}, {QCode: code}}
}

func (k *libvirtKeys) send(events []virt.KeyEvent) error {
	// The keys are not logged: a boot command may type a password.
	if err := k.driver.SendKeys(k.dom, events); err != nil {
		return err
	}
	select {
	case <-time.After(k.interval):
		return nil
	case <-k.ctx.Done():
		return k.ctx.Err()
	}
}

// Flush has nothing to do: every key is sent as it comes.
func (k *libvirtKeys) Flush() error { return nil }
