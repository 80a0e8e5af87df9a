package sysprep

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
)

// BuilderID identifies the artifacts of this post-processor.
const BuilderID = "cloudimage.post-processor.sysprep"

// Artifact is the produced files: each format's image and its checksums.
type Artifact struct {
	outputs     []*output
	virtualSize uint64
	guest       Guest
	// inputState: the input's contract keys, read while PostProcess ran
	// (artifact.Snapshot).
	inputState map[string]interface{}
}

func (a *Artifact) BuilderId() string { return BuilderID }

// Files are the images, each followed by its checksum files.
func (a *Artifact) Files() []string {
	var files []string
	for _, o := range a.outputs {
		files = append(files, o.final)
		for _, typ := range ChecksumTypes {
			if _, ok := o.checksums[typ]; ok {
				files = append(files, o.final+"."+typ)
			}
		}
	}
	return files
}

// Id is the first output's path.
func (a *Artifact) Id() string { return a.outputs[0].final }

func (a *Artifact) String() string {
	var names []string
	for _, o := range a.outputs {
		names = append(names, filepath.Base(o.final))
	}
	return fmt.Sprintf("cleaned disk images in %s: %s", filepath.Dir(a.outputs[0].final), strings.Join(names, ", "))
}

// State holds the HCP Packer registry metadata, "disk_path" and
// "disk_format" (the first output),
// "virtual_size", "formats" (format -> path), "checksums" (path.type ->
// sum) and "guest" (Guest.Map); the input's contract keys otherwise.
func (a *Artifact) State(name string) interface{} {
	first := a.outputs[0]
	switch name {
	case registryimage.ArtifactStateURI:
		// One registry image per output format, each with its checksum.
		var images []*registryimage.Image
		for _, o := range a.outputs {
			if img := artifact.LocalImage(a, o.final, o.format, a.virtualSize, o.checksums["sha256"]); img != nil {
				images = append(images, img)
			}
		}
		return images
	case "disk_path":
		return first.final
	case "disk_format":
		return first.format
	case "virtual_size":
		return a.virtualSize
	case "formats":
		m := map[string]string{}
		for _, o := range a.outputs {
			m[o.format] = o.final
		}
		return m
	case "checksums":
		m := map[string]string{}
		for _, o := range a.outputs {
			for typ, sum := range o.checksums {
				m[o.final+"."+typ] = sum
			}
		}
		return m
	case "guest":
		return a.guest.Map()
	}
	return a.inputState[name]
}

// Destroy removes the produced files.
func (a *Artifact) Destroy() error {
	for _, f := range a.Files() {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
