package libvirt

import (
	"fmt"
	"os"
	"time"

	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// Artifact is the exported disk and the build's console log.
type Artifact struct {
	dir        string
	disk       string
	consoleLog string
	info       image.Info
	// The exported file's size and time, to tell at the end of the build
	// whether a post-processor has since replaced or removed it.
	size    int64
	modTime time.Time
	state   map[string]interface{}
}

func newArtifact(dir, disk, consoleLog string, info image.Info, state map[string]interface{}) *Artifact {
	a := &Artifact{dir: dir, disk: disk, consoleLog: consoleLog, info: info, state: state}
	if fi, err := os.Stat(disk); err == nil {
		a.size, a.modTime = fi.Size(), fi.ModTime()
	}
	return a
}

// BuilderId identifies the builder that made the artifact.
func (a *Artifact) BuilderId() string { return BuilderID }

// Files are the disk image first, then the console log.
func (a *Artifact) Files() []string {
	files := []string{a.disk}
	if a.consoleLog != "" {
		files = append(files, a.consoleLog)
	}
	return files
}

// Id is the disk image's path.
func (a *Artifact) Id() string { return a.disk }

// String is what Packer lists at the end of the build, after every
// post-processor has run: it says the truth about the file then, which a
// post-processor writing in place (cloudimage-sysprep) may have changed.
func (a *Artifact) String() string {
	fi, err := os.Stat(a.disk)
	switch {
	case os.IsNotExist(err):
		return fmt.Sprintf("disk image %s: removed since the export, by a post-processor (cloudimage-sysprep without keep_input)", a.disk)
	case err == nil && (fi.Size() != a.size || !fi.ModTime().Equal(a.modTime)):
		return fmt.Sprintf("disk image %s: replaced since the export by a post-processor's output (listed after this)", a.disk)
	}
	return fmt.Sprintf("disk image %s (%s, %d MiB virtual, %d MiB on disk)", a.disk, a.info.Format, a.info.VirtualSize>>20, a.info.ActualSize>>20)
}

// State holds the artifact contract's keys (internal/artifact): the
// disk's path, format and virtual size, the firmware, machine type,
// architecture, disk bus and NIC model, the console log, and the build's
// generated data; and the HCP Packer registry metadata.
func (a *Artifact) State(name string) interface{} {
	if name == registryimage.ArtifactStateURI {
		return artifact.LocalImage(a, a.disk, a.info.Format, a.info.VirtualSize, "")
	}
	return a.state[name]
}

// Destroy removes the output directory.
func (a *Artifact) Destroy() error { return os.RemoveAll(a.dir) }
