package sysprep

import (
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
)

// virt-sparsify --machine-readable's "N/M" lines drive a bar of the disk's
// virtual size; its JSON lines go to the log; its status lines are shown.
func TestSparsifyProgress(t *testing.T) {
	ui := uitest.New()
	state := new(multistep.BasicStateBag)
	state.Put("input_info", image.Info{VirtualSize: 1 << 30, ActualSize: 1 << 29})
	p := newSparsifyProgress(ui, state, "")
	for _, tc := range []struct {
		line     string
		consumed bool
	}{
		{`{ "message": "Fill free space in /dev/sda1 with zero", "type": "message" }`, true},
		{"[  17.5] Fill free space in /dev/sda1 with zero", false},
		{"9/12", true},
		{"3/4", true},
		{"[  37.1] Copy to destination and make sparse", false},
		{"1/0", false},
		{"virt-sparsify: error: 1/2 of something", false},
	} {
		if got := p.line(tc.line); got != tc.consumed {
			t.Errorf("line %q consumed %v, want %v", tc.line, got, tc.consumed)
		}
	}
	p.close()
	if got := ui.ProgressRead("virt-sparsify"); got != 3<<28 {
		t.Errorf("the bar read %d bytes, want 75%% of 1 GiB", got)
	}
}
