package sysprep

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// tool runs the libguestfs programs with the environment that chooses
// their backend and accelerator.
type tool struct {
	ui  packersdk.Ui
	env []string // added to the environment: LIBGUESTFS_*
}

// run runs name with args, each output line shown in the UI (prefixed
// with the program's name), and fails with the command line and the end
// of its stderr. The program gets its own process group, so that a cancel
// also stops the QEMU appliance it started, and no terminal: stdin is
// /dev/null, so nothing can wait for input.
func (t tool) run(ctx context.Context, name string, args ...string) error {
	return t.runFiltered(ctx, nil, name, args...)
}

// runFiltered is run whose output lines go to consume first: those it
// returns true for (progress, say) are not shown.
func (t tool) runFiltered(ctx context.Context, consume func(line string) bool, name string, args ...string) error {
	cmd := t.command(ctx, name, args...)
	var stderr tailBuffer
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = io.MultiWriter(pw, &stderr)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sc.Split(image.ScanLines)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if consume != nil && line != "" && consume(line) {
				continue
			}
			if line != "" && !strings.HasPrefix(line, name+":") {
				line = name + ": " + line
			}
			if line != "" {
				t.ui.Say(line)
			}
		}
		// Drains what the scanner left (it stops at a line over 1 MiB), so
		// that the tool never blocks writing to the pipe.
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return commandError(name, args, err, &stderr)
	}
	return nil
}

// commandError is a tool's failure: its command line and the end of its
// stderr, with the passwords of extra_args hidden.
func commandError(name string, args []string, err error, stderr *tailBuffer) error {
	msg := fmt.Sprintf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	return fmt.Errorf("%s", packersdk.LogSecretFilter.FilterString(msg))
}

// output runs name with args and returns its standard output.
func (t tool) output(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := t.command(ctx, name, args...)
	var stderr tailBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, commandError(name, args, err, &stderr)
	}
	return out, nil
}

// command is name with args in its own process group, which a cancel
// stops, QEMU appliance included.
func (t tool) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), t.env...)
	ownProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// tailBuffer keeps the last 4 KiB written to it: enough of stderr to say
// why a program failed.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
