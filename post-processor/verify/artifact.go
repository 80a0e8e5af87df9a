package verify

import (
	"fmt"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

// BuilderID identifies the artifacts of this post-processor.
const BuilderID = "cloudimage.post-processor.verify"

// Artifact is the verified image: its input's files and contract keys,
// read while PostProcess ran (the SDK closes the input's connection once a
// new artifact is returned), and what the checks proved. Its own line in
// Packer's final list says what was verified, so the input's line is not
// printed twice.
type Artifact struct {
	files  []string
	id     string
	disk   string
	state  map[string]interface{}
	report string
	pass   int
	na     int
	failed int
}

func newArtifact(in packersdk.Artifact, disk, reportFile string, results []report.Result, adminUser string) *Artifact {
	a := &Artifact{files: in.Files(), id: in.Id(), disk: disk, state: artifact.Snapshot(in), report: reportFile}
	for _, r := range results {
		switch r.Status {
		case report.Pass:
			a.pass++
		case report.NotApplicable:
			a.na++
		default:
			a.failed++
		}
		// L07 proved the guest agent resets this user's password: the
		// user Nova's set-password changes (Glance's os_admin_user).
		if r.ID == "L07" && r.Status == report.Pass && adminUser != "" {
			a.state[artifact.KeyAdminUser] = adminUser
		}
	}
	return a
}

func (a *Artifact) BuilderId() string { return BuilderID }

// Files are the input's: verify writes no image.
func (a *Artifact) Files() []string { return a.files }

// Id is the input's.
func (a *Artifact) Id() string { return a.id }

func (a *Artifact) String() string {
	return fmt.Sprintf("verified %s: %d items pass, %d not applicable, %d failed; report %s", a.disk, a.pass, a.na, a.failed, a.report)
}

// State is the input's contract keys, with "admin_user" when L07 passed.
// It has no HCP Packer metadata of its own: the input's artifact, kept,
// carries the image's.
func (a *Artifact) State(name string) interface{} { return a.state[name] }

// Destroy leaves the files: they are the input's, which Packer destroys
// with the input if the build does not keep it.
func (a *Artifact) Destroy() error { return nil }
