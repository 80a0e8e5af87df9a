package step

import (
	"context"
	"io"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Start starts the state's "domain" with its serial console streamed into
// LogPath from the first line the firmware prints (virt.Driver.Start),
// once the ports reserved for its forwards ("forwards") are released for
// QEMU to take. It puts the log's path in the state as "console_log".
// Cleanup detaches the console and closes the log; the domain itself goes
// with the cleanup of the step that defined it.
type Start struct {
	LogPath string

	attached io.Closer
	log      *os.File
}

func (s *Start) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	d := state.Get("driver").(virt.Driver)
	dom := state.Get("domain").(virt.Domain)
	var err error
	// Not world-readable: a guest may print what it should not.
	if s.log, err = os.OpenFile(s.LogPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
		return Halt(state, err)
	}
	state.Put("console_log", s.LogPath)
	state.Get("ui").(packersdk.Ui).Say("Serial console log: " + s.LogPath)
	if f, ok := state.GetOk("forwards"); ok {
		f.(*virt.Forwards).Release()
	}
	if s.attached, err = d.Start(ctx, dom, s.log); err != nil {
		return Halt(state, err)
	}
	return multistep.ActionContinue
}

func (s *Start) Cleanup(multistep.StateBag) {
	if s.attached != nil {
		_ = s.attached.Close()
	}
	if s.log != nil {
		_ = s.log.Close()
	}
}
