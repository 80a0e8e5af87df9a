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
}

// Inspect runs `qemu-img info` on path.
func Inspect(ctx context.Context, path string) (Info, error) {
	out, err := run(ctx, "qemu-img", "info", "--output=json", path)
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

// CopyInto writes the contents of src into dst, an existing image of the
// given format at least as large, leaving dst's own size and format.
func CopyInto(ctx context.Context, src, dst, dstFormat string) error {
	_, err := run(ctx, "qemu-img", "convert", "-n", "-O", dstFormat, src, dst)
	return err
}
