package image

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// ConvertOptions are the choices of Convert.
type ConvertOptions struct {
	// SrcFormat is the source's format, which qemu-img is told (-f) rather
	// than left to guess.
	SrcFormat string
	Format    string // output format: qcow2, raw, vmdk, vhdx, vdi
	Compress  bool   // qcow2 compression
	// CompressionType is qcow2's compression_type: zlib (qemu-img's
	// default) or zstd (QEMU 5.1 and later).
	CompressionType string
	// Progress, when set, is called with the percentage done as qemu-img
	// reports it.
	Progress func(percent float64)
}

// Convert writes src to dst in another format with `qemu-img convert`,
// which also drops zeroed and unused clusters and flattens backing files.
func Convert(ctx context.Context, src, dst string, o ConvertOptions) error {
	if o.SrcFormat == "" {
		return fmt.Errorf("qemu-img convert %s: the source's format is not known (it is never guessed)", src)
	}
	args := []string{"convert", "-p", "-f", o.SrcFormat, "-O", o.Format}
	if o.Compress {
		args = append(args, "-c")
		if o.CompressionType != "" && o.CompressionType != "zlib" {
			args = append(args, "-o", "compression_type="+o.CompressionType)
		}
	}
	args = append(args, src, dst)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "qemu-img", args...)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("qemu-img %s: %w", strings.Join(args, " "), err)
	}
	readProgress(out, o.Progress)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("qemu-img %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// readProgress reads qemu-img -p's "    (12.34/100%)" lines, which end in
// carriage returns.
func readProgress(r io.Reader, report func(float64)) {
	sc := bufio.NewScanner(r)
	sc.Split(ScanLines)
	for sc.Scan() {
		if f, ok := QemuImgPercent(sc.Text()); ok && report != nil {
			report(f)
		}
	}
}

// ScanLines is a bufio.SplitFunc that splits at \n and at the \r that
// progress output ends its lines with.
func ScanLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
