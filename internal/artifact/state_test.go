package artifact

import (
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/rpctest"
)

// stateArtifact is an upstream artifact with a map of strings in its state,
// as the cloudimage-sysprep artifact's "guest".
type stateArtifact struct{ state map[string]interface{} }

func (stateArtifact) BuilderId() string               { return "test" }
func (stateArtifact) Files() []string                 { return nil }
func (stateArtifact) Id() string                      { return "" }
func (stateArtifact) String() string                  { return "" }
func (a stateArtifact) State(name string) interface{} { return a.state[name] }
func (stateArtifact) Destroy() error                  { return nil }

// Through the SDK's RPC, as a post-processor of another plugin process
// gets the artifact, and in the same process: the same map.
func TestStringMapOverRPC(t *testing.T) {
	guest := map[string]string{"os_type": "linux", "distro": "debian", "major_version": "12"}
	var local packersdk.Artifact = stateArtifact{map[string]interface{}{"guest": guest, "disk_path": "/x.qcow2"}}

	remote := rpctest.Artifact(t, local)

	if _, ok := remote.State("guest").(map[string]string); ok {
		t.Log("the SDK's RPC now carries the map itself")
	} else {
		t.Logf("over RPC, State(\"guest\") is a %T", remote.State("guest"))
	}
	for name, a := range map[string]packersdk.Artifact{"local": local, "rpc": remote} {
		got := StringMap(a, "guest")
		if len(got) != len(guest) || got["distro"] != "debian" || got["major_version"] != "12" {
			t.Errorf("%s: StringMap(guest) = %v, want %v", name, got, guest)
		}
		if m := StringMap(a, "disk_path"); m != nil {
			t.Errorf("%s: StringMap(disk_path) = %v, want nil (a string)", name, m)
		}
		if m := StringMap(a, "missing"); m != nil {
			t.Errorf("%s: StringMap(missing) = %v, want nil", name, m)
		}
	}
}
