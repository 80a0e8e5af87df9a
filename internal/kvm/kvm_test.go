package kvm

import (
	"strings"
	"testing"
)

// The builder, sysprep and verify say the same one line; the probe's
// detail (QEMU's assertion) is not in it.
func TestUnusableIsOneLine(t *testing.T) {
	got := Unusable("libguestfs")
	if want := "KVM is unusable on this host (see the log); libguestfs uses software emulation (TCG), which is slower"; got != want {
		t.Errorf("Unusable = %q, want %q", got, want)
	}
	if strings.ContainsAny(got, "\n\r") {
		t.Errorf("%q is more than one line", got)
	}
}
