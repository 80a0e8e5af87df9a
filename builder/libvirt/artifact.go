package libvirt

import (
	"fmt"
	"os"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// Artifact is the exported disk and the build's console log.
type Artifact struct {
	dir        string
	disk       string
	consoleLog string
	info       image.Info
	state      map[string]interface{}
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

func (a *Artifact) String() string {
	return fmt.Sprintf("disk image %s (%s, %d MiB virtual, %d MiB on disk)", a.disk, a.info.Format, a.info.VirtualSize>>20, a.info.ActualSize>>20)
}

// State holds the artifact contract's keys (internal/artifact): the
// disk's path, format and virtual size, the firmware and machine type,
// the console log, and the build's generated data.
func (a *Artifact) State(name string) interface{} { return a.state[name] }

// Destroy removes the output directory.
func (a *Artifact) Destroy() error { return os.RemoveAll(a.dir) }
