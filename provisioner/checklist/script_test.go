package checklist

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The family files set variables that lib.sh, linux.sh and the shared
// files read, so ShellCheck's unused-variable check (SC2034) is off in
// them when hack/lint.sh checks each file alone. Here it runs on each
// family's whole script, where every variable set must be read. Skipped
// without shellcheck, except in the acceptance run (the harness installs
// it).
func TestLinuxScriptsHaveNoUnusedVariables(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		if os.Getenv("PACKER_ACC") != "" {
			t.Fatal("shellcheck is not installed: hack/install-deps.sh installs it")
		}
		t.Skip("shellcheck is not installed")
	}
	// A variable nobody reads must be found, or the check proves nothing.
	if out := unusedVariables(t, "#!/bin/sh\nnobody_reads=1\n"); !strings.Contains(out, "nobody_reads") {
		t.Fatalf("shellcheck did not report an unused variable: %q", out)
	}
	// The files' own directives, blanked line for line so that the line
	// numbers stay.
	directive := regexp.MustCompile(`(?m)^# shellcheck disable=SC2034\b.*$`)
	for _, fam := range linuxFamilies {
		t.Run(fam, func(t *testing.T) {
			t.Parallel()
			script, err := linuxScript(settings{Family: fam, Mode: "apply"})
			if err != nil {
				t.Fatal(err)
			}
			script = directive.ReplaceAllString(script, "#")
			if out := unusedVariables(t, script); out != "" {
				t.Errorf("variables set and never read:\n%s", inFiles(script, out))
			}
		})
	}
}

// unusedVariables is shellcheck's SC2034 findings on script, read as dash.
func unusedVariables(t *testing.T, script string) string {
	t.Helper()
	cmd := exec.Command("shellcheck", "--shell=dash", "--include=SC2034", "--format=gcc", "-")
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// Exit status 1: findings; anything else is shellcheck failing.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("shellcheck: %v: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// inFiles names the file of scripts/ and its line for each "-:LINE:"
// finding of the assembled script, after the "# ---- NAME ----" markers.
func inFiles(script, findings string) string {
	lines := strings.Split(script, "\n")
	marker := regexp.MustCompile(`^# ---- (\S+) ----$`)
	line := regexp.MustCompile(`^-:(\d+):`)
	var b strings.Builder
	for _, f := range strings.Split(findings, "\n") {
		where := "the settings"
		if m := line.FindStringSubmatch(f); m != nil {
			n, _ := strconv.Atoi(m[1])
			for i := min(n, len(lines)) - 1; i >= 0; i-- {
				if mm := marker.FindStringSubmatch(lines[i]); mm != nil {
					where = fmt.Sprintf("scripts/%s:%d", mm[1], n-1-i)
					break
				}
			}
			f = f[len(m[0]):]
		}
		fmt.Fprintf(&b, "  %s:%s\n", where, f)
	}
	return b.String()
}
