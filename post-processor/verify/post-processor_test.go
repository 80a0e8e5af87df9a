package verify

import (
	"context"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// windowsArtifact is what cloudimage-sysprep hands on for a Windows guest:
// its inspection under "guest", as a map of strings.
type windowsArtifact struct{ packersdk.Artifact }

func (windowsArtifact) Files() []string { return []string{"windows.qcow2"} }

func (windowsArtifact) State(name string) interface{} {
	if name == "guest" {
		return map[string]string{"os_type": "windows", "distro": "windows"}
	}
	return nil
}

// A Windows image is refused with a message that says what to do, before
// anything is booted or even read.
func TestRefusesWindowsImages(t *testing.T) {
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"domain_type": "qemu"}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := p.PostProcess(context.Background(), packersdk.TestUi(t), windowsArtifact{})
	if err == nil || !strings.Contains(err.Error(), "this image is Windows") || !strings.Contains(err.Error(), "leave the post-processor out") {
		t.Fatalf("PostProcess on a Windows artifact: %v", err)
	}
}
