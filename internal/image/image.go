// Package image inspects and converts disk images with qemu-img, the tool
// every libvirt host has.
package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// Info is what `qemu-img info` tells about an image.
type Info struct {
	Format      string `json:"format"`
	VirtualSize uint64 `json:"virtual-size"`
	ActualSize  uint64 `json:"actual-size"`
	BackingFile string `json:"backing-filename"`
	// FormatSpecific holds qcow2's external data file, if it has one.
	FormatSpecific *struct {
		Data struct {
			DataFile string `json:"data-file"`
		} `json:"data"`
	} `json:"format-specific,omitempty"`
}

// DataFile is the image's external data file (qcow2 data_file), if any.
func (i Info) DataFile() string {
	if i.FormatSpecific == nil {
		return ""
	}
	return i.FormatSpecific.Data.DataFile
}

// SelfContained fails an image that points at other files: a backing file
// or an external data file. On a disk or a base image the plugin did not
// set up, either may name any file of this machine (/etc/shadow), which
// every tool that reads the image, and the image it exports, would read.
func (i Info) SelfContained(path string) error {
	what, file := "", ""
	switch {
	case i.BackingFile != "":
		what, file = "a backing file", i.BackingFile
	case i.DataFile() != "":
		what, file = "an external data file", i.DataFile()
	default:
		return nil
	}
	return fmt.Errorf("%s (%s) has %s, %s, which this plugin did not set up: it is refused, as it may read any file of this machine. Flatten the image first (qemu-img convert -O %s SOURCE FLAT) if that file is meant", path, i.Format, what, file, i.Format)
}

// Inspect runs `qemu-img info` on path. With format set, qemu-img reads
// the file as that format (-f) instead of guessing it from its bytes, which
// a guest or a download may have written.
func Inspect(ctx context.Context, path, format string) (Info, error) {
	args := []string{"info", "--output=json"}
	if format != "" {
		args = append(args, "-f", format)
	}
	out, err := run(ctx, "qemu-img", append(args, path)...)
	if err != nil {
		return Info{}, err
	}
	var info Info
	if err := json.Unmarshal(out, &info); err != nil {
		return Info{}, fmt.Errorf("reading qemu-img info of %s: %w", path, err)
	}
	return info, nil
}

// run runs a command and returns its stdout; its error carries the command
// line and stderr, which say what went wrong.
func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// CopyInto writes the contents of src (of srcFormat) into dst, an
// existing image of dstFormat at least as large, leaving dst's own size and
// format.
func CopyInto(ctx context.Context, src, srcFormat, dst, dstFormat string) error {
	_, err := run(ctx, "qemu-img", "convert", "-n", "-f", srcFormat, "-O", dstFormat, src, dst)
	return err
}
