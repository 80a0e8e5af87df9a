package virt

import "testing"

func TestIsQ35(t *testing.T) {
	for mt, want := range map[string]bool{
		"q35": true, "pc-q35-7.2": true, "pc": false, "pc-i440fx-2.11": false, "": false,
	} {
		if got := IsQ35(mt); got != want {
			t.Errorf("IsQ35(%q) = %v, want %v", mt, got, want)
		}
	}
}
