package sysprep

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
)

// output is one file to produce: written to temp, renamed to final once
// every output and checksum is written.
type output struct {
	format      string
	final, temp string
	written     bool
	checksums   map[string]string // by type
}

// plan names the outputs: <dir>/<name>.<extension of the format>, and a
// temporary name beside each.
func (c *Config) plan(input string) (outputs []*output, tempBase string) {
	dir := c.OutputDirectory
	if dir == "" {
		dir = filepath.Dir(input)
	}
	name := c.OutputName
	if name == "" {
		name = stem(input)
	}
	b := make([]byte, 4)
	rand.Read(b)
	tempBase = filepath.Join(dir, "."+name+".tmp-"+hex.EncodeToString(b))
	for _, f := range c.Formats {
		final := filepath.Join(dir, name+"."+extensions[f])
		outputs = append(outputs, &output{format: f, final: final, temp: tempBase + "." + extensions[f]})
	}
	return outputs, tempBase
}

func findOutput(outputs []*output, format string) *output {
	for _, o := range outputs {
		if o.format == format {
			return o
		}
	}
	return nil
}

// stem is a file's name without its disk image extension.
func stem(path string) string {
	base := filepath.Base(path)
	if artifact.HasDiskExtension(base) {
		return base[:len(base)-len(filepath.Ext(base))]
	}
	return base
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// halt records err for PostProcess and stops the steps.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put("error", err)
	return multistep.ActionHalt
}
