package verify

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepStart starts the instance with its serial console streamed into
// console.log in the run's folder from the first line (L12), once the
// reserved ports are released for QEMU's forwards.
type stepStart struct {
	dir      string // the run's folder, for the console log
	attached io.Closer
	log      *os.File
}

func (s *stepStart) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	d := state.Get("driver").(virt.Driver)
	dom := state.Get("domain").(virt.Domain)
	logPath := filepath.Join(s.dir, "console.log")
	var err error
	if s.log, err = os.Create(logPath); err != nil {
		return step.Halt(state, err)
	}
	state.Put("console_log", logPath)
	if f, ok := state.GetOk("forwards"); ok {
		f.(*virt.Forwards).Release()
	}
	if s.attached, err = d.Start(ctx, dom, s.log); err != nil {
		return step.Halt(state, err)
	}
	return multistep.ActionContinue
}

func (s *stepStart) Cleanup(multistep.StateBag) {
	if s.attached != nil {
		_ = s.attached.Close()
	}
	if s.log != nil {
		_ = s.log.Close()
	}
}
