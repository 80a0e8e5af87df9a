package libvirt

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// running is a stepTest with the build's domain defined and running.
func running(t *testing.T, c *Config) (*stepTest, virt.Domain) {
	t.Helper()
	st := newStepTest(t, c)
	dom, err := st.state.Get("owned").(*virt.Owned).Define(virt.Machine{Name: c.VMName, DomainType: "qemu", MemoryMiB: 512})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.d.Start(context.Background(), dom, new(strings.Builder)); err != nil {
		t.Fatal(err)
	}
	st.state.Put("domain", dom)
	st.state.Put("console_log", "/out/console.log")
	return st, dom
}

// The guest stops when asked; one that does not within shutdown_timeout
// fails the build, and its disk is not exported: it may be half written.
func TestStepShutdown(t *testing.T) {
	t.Run("ACPI, the guest obeys", func(t *testing.T) {
		c := stepConfig(t, map[string]interface{}{"vm_name": "web"})
		st, _ := running(t, c)
		st.d.StopOnShutdown = true
		st.run(&stepShutdown{config: c}, multistep.ActionContinue)
		if st.d.Called("Shutdown", "web") != 1 || st.d.Domain("web").State != fake.Defined || !st.ui.Said("The guest has shut down") {
			t.Errorf("calls %v, state %s, said %q", st.d.Calls, st.d.Domain("web").State, st.ui.Lines())
		}
	})
	t.Run("ACPI, the guest ignores it", func(t *testing.T) {
		c := stepConfig(t, map[string]interface{}{"vm_name": "web", "shutdown_timeout": "50ms"})
		st, _ := running(t, c)
		start := time.Now()
		st.run(&stepShutdown{config: c}, multistep.ActionHalt)
		if !strings.Contains(st.err().Error(), "did not shut down within shutdown_timeout (50ms)") || !strings.Contains(st.err().Error(), "/out/console.log") {
			t.Errorf("error %v", st.err())
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("the wait took %s", time.Since(start))
		}
		// Not forced off here: -on-error=abort keeps it running for a look,
		// the define step's cleanup removes it otherwise.
		if st.d.Called("Destroy") != 0 || st.d.Domain("web").State != fake.Running {
			t.Errorf("calls %v", st.d.Calls)
		}
	})
	t.Run("shutdown_command", func(t *testing.T) {
		c := stepConfig(t, map[string]interface{}{"vm_name": "web", "shutdown_command": "systemctl poweroff"})
		st, _ := running(t, c)
		comm := &poweroffComm{stop: func() { st.d.Stop("web") }}
		st.state.Put("communicator", comm)
		st.run(&stepShutdown{config: c}, multistep.ActionContinue)
		if comm.StartCmd.Command != "systemctl poweroff" || st.d.Called("Shutdown") != 0 {
			t.Errorf("ran %q; calls %v", comm.StartCmd.Command, st.d.Calls)
		}
	})
	t.Run("communicator none waits without a timeout", func(t *testing.T) {
		c := stepConfig(t, map[string]interface{}{"vm_name": "web", "communicator": "none", "ssh_username": del})
		st, _ := running(t, c)
		// shutdown_timeout's default (5m) does not bound an installer.
		if c.shutdownTimeoutSet {
			t.Fatal("shutdown_timeout was not set")
		}
		time.AfterFunc(100*time.Millisecond, func() { st.d.Stop("web") })
		st.run(&stepShutdown{config: c}, multistep.ActionContinue)
		if !st.ui.Said("Waiting for the guest to power itself off") {
			t.Errorf("said %q", st.ui.Lines())
		}
	})
	t.Run("Ctrl-C", func(t *testing.T) {
		c := stepConfig(t, map[string]interface{}{"vm_name": "web", "communicator": "none", "ssh_username": del})
		st, _ := running(t, c)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if got := (&stepShutdown{config: c}).Run(ctx, st.state); got != multistep.ActionHalt {
			t.Errorf("action %v", got)
		}
		if _, ok := st.state.GetOk("error"); ok {
			t.Errorf("a cancel is not an error: %v", st.state.Get("error"))
		}
	})
}

// poweroffComm is a communicator whose command powers the guest off.
type poweroffComm struct {
	packersdk.MockCommunicator
	stop func()
}

func (c *poweroffComm) Start(ctx context.Context, cmd *packersdk.RemoteCmd) error {
	err := c.MockCommunicator.Start(ctx, cmd)
	c.stop()
	return err
}
