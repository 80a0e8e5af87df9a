package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PackerCommand returns the harness's Packer binary running args in dir,
// with the harness's plugin folder and no checkpoint calls.
func PackerCommand(ctx context.Context, t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	env := Get(t, "PACKER_BIN", "PACKER_PLUGIN_PATH")
	cmd := exec.CommandContext(ctx, env[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "PACKER_PLUGIN_PATH="+env[1])
	return cmd
}

// Packer runs the harness's Packer binary and returns its output; the test
// fails if Packer does.
func Packer(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := PackerCommand(context.Background(), t, dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("packer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// PostProcessorTemplate writes a template whose build hands file to one
// post-processor of type kind (the null builder, then artifice), with
// settings as its body, and returns its path.
func PostProcessorTemplate(t *testing.T, dir, file, kind, settings string) string {
	t.Helper()
	tmpl := fmt.Sprintf(`
source "null" "disk" { communicator = "none" }
build {
  sources = ["source.null.disk"]
  post-processors {
    post-processor "artifice" { files = [%q] }
    post-processor %q {
%s
    }
  }
}
`, file, kind, settings)
	path := filepath.Join(dir, kind+"-"+RandomHex(t, 3)+".pkr.hcl")
	if err := os.WriteFile(path, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
