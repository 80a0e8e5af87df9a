package libvirt

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/bootcommand"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
	"github.com/mitchellh/go-vnc"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// bootCommandData is what a boot command's templates see.
type bootCommandData struct {
	HTTPIP   string
	HTTPPort int
	Name     string
}

// stepBootCommand waits boot_wait (or, with "auto", for the screen to be
// ready: boot_screen.go), then types the boot command (or each of
// boot_steps): through libvirt, or on the domain's VNC console
// (boot_key_transport).
type stepBootCommand struct {
	config *Config
}

func (s *stepBootCommand) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	c := s.config
	steps := c.steps(&c.VNCConfig)
	if len(steps) == 0 {
		return multistep.ActionContinue
	}
	ui := state.Get("ui").(packersdk.Ui)
	switch {
	case c.bootWaitAuto:
		ui.Say(fmt.Sprintf("Waiting for the boot screen to be still for %s (boot_wait = \"auto\")...", c.BootWaitSettle))
		waited, err := waitForScreen(ctx, state.Get("driver").(virt.Driver), state.Get("domain").(virt.Domain), c.BootWaitSettle, c.BootWaitTimeout)
		if ctx.Err() != nil {
			return multistep.ActionHalt
		}
		if err != nil {
			return step.Halt(state, err)
		}
		ui.Say(fmt.Sprintf("The boot screen was ready after %s", waited.Round(100*time.Millisecond)))
	case c.BootWait > 0:
		ui.Say(fmt.Sprintf("Waiting %s for boot...", c.BootWait))
		select {
		case <-time.After(c.BootWait):
		case <-ctx.Done():
			return multistep.ActionHalt
		}
	}

	driver, closeKeys, err := s.keyboard(ctx, state)
	if err != nil {
		if ctx.Err() != nil {
			return multistep.ActionHalt
		}
		return step.Halt(state, err)
	}
	defer closeKeys()
	// hack/bench-builder.sh times the first key from this line.
	log.Printf("typing the boot command (boot_key_transport %s)", c.BootKeyTransport)

	httpIP, _ := state.Get("http_ip").(string)
	c.ctx.Data = &bootCommandData{HTTPIP: httpIP, HTTPPort: state.Get("http_port").(int), Name: c.VMName}
	for i, keysAndName := range steps {
		keys, err := interpolate.Render(keysAndName[0], &c.ctx)
		if err != nil {
			return step.Halt(state, fmt.Errorf("boot command step %d: %w", i+1, err))
		}
		if len(keysAndName) > 1 {
			ui.Say(fmt.Sprintf("Typing boot step %d/%d: %s", i+1, len(steps), keysAndName[1]))
		} else {
			ui.Say("Typing the boot command...")
		}
		seq, err := bootcommand.GenerateExpressionSequence(keys)
		if err != nil {
			return step.Halt(state, fmt.Errorf("boot command step %d: %w", i+1, err))
		}
		if err := seq.Do(ctx, driver); err != nil {
			return step.Halt(state, fmt.Errorf("typing the boot command: %w", err))
		}
		if pause, ok := state.GetOk("pauseFn"); ok && i+1 < len(steps) {
			pause.(multistep.DebugPauseFn)(multistep.DebugLocationAfterRun, fmt.Sprintf("boot step %d/%d typed", i+1, len(steps)), state)
		}
	}
	log.Printf("boot command typed")
	return multistep.ActionContinue
}

func (s *stepBootCommand) Cleanup(multistep.StateBag) {}

// keyboard is what types the keys, for boot_key_transport, and what ends
// it.
func (s *stepBootCommand) keyboard(ctx context.Context, state multistep.StateBag) (bootcommand.BCDriver, func(), error) {
	c := s.config
	if c.BootKeyTransport == transportLibvirt {
		return &libvirtKeys{
			ctx:      ctx,
			driver:   state.Get("driver").(virt.Driver),
			dom:      state.Get("domain").(virt.Domain),
			interval: keyInterval(c.BootKeyInterval, libvirtKeyInterval),
		}, func() {}, nil
	}
	port := state.Get("vnc_port").(int)
	addr, err := vncDialAddress(c.VNCBindAddress, c.LibvirtURI)
	if err != nil {
		return nil, nil, err
	}
	dialer := net.Dialer{Timeout: vncTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(addr, fmt.Sprint(port)))
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to VNC: %w", err)
	}
	// A Ctrl-C closes the connection, which ends a handshake or a key
	// press waiting on it; a server that never answers fails the build.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(vncTimeout))
	client, err := vnc.Client(conn, &vnc.ClientConfig{
		Auth:      []vnc.ClientAuth{&vnc.PasswordAuth{Password: c.VNCPassword}},
		Exclusive: false,
	})
	if err != nil {
		stop()
		conn.Close()
		return nil, nil, fmt.Errorf("VNC handshake with %s:%d: %w", addr, port, err)
	}
	_ = conn.SetDeadline(time.Time{})
	// The SDK's VNC driver logs every key it types to PACKER_LOG, so a
	// password in the boot command is there too: the libvirt transport
	// logs none.
	return bootcommand.NewVNCDriver(client, c.BootKeyInterval), func() {
		stop()
		client.Close() // closes conn
	}, nil
}

// vncTimeout bounds the VNC dial and handshake: QEMU answers at once, so
// a silent server is a wrong address or a hung host. Tests shorten it.
var vncTimeout = 30 * time.Second

// vncDialAddress is where to reach a VNC server that listens on bind, on
// the libvirt host of uri.
func vncDialAddress(bind, uri string) (string, error) {
	ip := net.ParseIP(bind)
	if virt.OnThisMachine(uri) {
		if ip == nil || ip.IsUnspecified() {
			return "127.0.0.1", nil
		}
		return bind, nil
	}
	switch {
	case ip != nil && ip.IsLoopback():
		return "", fmt.Errorf("vnc_bind_address %s: VNC on the remote libvirt host's loopback is out of reach for the boot command; type through libvirt (boot_key_transport = \"libvirt\") or set vnc_bind_address = \"0.0.0.0\" (or an address of that host)", bind)
	case ip == nil || ip.IsUnspecified():
		return virt.Host(uri), nil
	}
	return bind, nil
}
