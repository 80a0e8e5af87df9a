package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"
)

// LocalImage is the HCP Packer registry metadata of a disk image file on
// this machine, in the form of Packer's own file builder: the file's name
// as the ID and its folder as the region, under the component's builder
// ID. The labels say what a consumer of the registry needs to use the
// file: its format, virtual size and sha256 checksum. sha256 is the
// file's sum, given when the component has it, else computed here (Packer
// asks only when the template has an hcp_packer_registry block). nil,
// logged, when the file cannot be read: Packer then skips the artifact.
func LocalImage(a packersdk.Artifact, path, format string, virtualSize uint64, sha256sum string) *registryimage.Image {
	if sha256sum == "" {
		var err error
		if sha256sum, err = fileSHA256(path); err != nil {
			log.Printf("HCP Packer metadata of %s: %v", path, err)
			return nil
		}
	}
	img, err := registryimage.FromArtifact(a,
		registryimage.WithID(filepath.Base(path)),
		registryimage.WithRegion(filepath.Dir(path)),
		registryimage.SetLabels(map[string]interface{}{
			"disk_format":  format,
			"virtual_size": strconv.FormatUint(virtualSize, 10),
			"checksum":     "sha256:" + sha256sum,
		}),
	)
	if err != nil {
		log.Printf("HCP Packer metadata of %s: %v", path, err)
		return nil
	}
	return img
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
