package checklist

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// treeRun is one run of a family's script on a prepared root tree, with
// the package and service managers replaced by testdata/stubs.
type treeRun struct {
	results []Result
	calls   []string
}

// runOnTree runs the family's script in mode on root and returns what it
// reported and the commands it called. units are the services the stub
// systemctl knows.
func runOnTree(t *testing.T, family, mode, root, state string, units ...string) treeRun {
	t.Helper()
	cmd, log := treeCommand(t, family, mode, root, state, units...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s script on %s: %v\n%s\n%s", family, root, err, out, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("the script wrote to stderr:\n%s", stderr.String())
	}
	calls, _ := os.ReadFile(log)
	return treeRun{
		results: parse(bytes.NewReader(out), discardUi{}),
		calls:   strings.Split(strings.TrimSpace(string(calls)), "\n"),
	}
}

// treeCommand is the command that runs the family's script on root, and
// the file where the stubs record their calls.
func treeCommand(t *testing.T, family, mode, root, state string, units ...string) (*exec.Cmd, string) {
	t.Helper()
	return treeCommandWith(t, map[string]interface{}{"family": family, "mode": mode}, root, state, units...)
}

// treeCommandWith is treeCommand with more of the provisioner's settings.
func treeCommandWith(t *testing.T, raw map[string]interface{}, root, state string, units ...string) (*exec.Cmd, string) {
	t.Helper()
	family := raw["family"].(string)
	c := &Config{}
	if err := c.prepare(raw); err != nil {
		t.Fatal(err)
	}
	s := c.settings(family)
	s.Root = root
	script, err := linuxScript(s)
	if err != nil {
		t.Fatal(err)
	}
	stubs, err := filepath.Abs("testdata/stubs")
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(state, "calls")
	os.Remove(log)
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(),
		"PATH="+stubs+":"+os.Getenv("PATH"),
		"CL_ROOT="+root, "STUB_LOG="+log, "STUB_STATE="+state, "STUB_UNITS="+strings.Join(units, " "))
	return cmd, log
}

// copyTree copies testdata/trees/NAME into a temporary folder.
func copyTree(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "root")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "trees", name))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// snapshot maps each file (and symlink) below root to its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			files[rel] = "-> " + target
			return nil
		}
		b, err := os.ReadFile(p)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// golden compares got with testdata/trees/NAME (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenFile(t, filepath.Join("testdata", "trees", name), got)
}

// goldenFile compares got with the file at path (rewritten with -update).
func goldenFile(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end)"
		}
		t.Errorf("%s differs at line %d (rerun with -update if the change is intended):\n got: %s\nwant: %s", path, i+1, line(g), line(w))
	}
}

// render lists the files of a tree with their contents, for a golden file.
func render(files map[string]string) string {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("=== " + n + "\n" + files[n])
		if !strings.HasSuffix(files[n], "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func statuses(results []Result) map[string]string {
	m := map[string]string{}
	for _, r := range results {
		m[r.ID] = r.Status
	}
	return m
}

// applyOnTree runs a family's script twice in apply mode on a copy of
// testdata/trees/TREE: the resulting files and the first run's calls must
// be the golden TREE.after and TREE.calls, every item must pass except
// those of notApplicable, and the second run must change nothing, install
// nothing and report the same.
func applyOnTree(t *testing.T, family, tree string, units, notApplicable []string) {
	t.Helper()
	root := copyTree(t, tree)
	state := t.TempDir()
	first := runOnTree(t, family, "apply", root, state, units...)
	after := snapshot(t, root)
	golden(t, tree+".after", render(after))
	golden(t, tree+".calls", strings.Join(first.calls, "\n")+"\n")

	for _, r := range first.results {
		want := "pass"
		if slices.Contains(notApplicable, r.ID) {
			want = "not-applicable"
		}
		if r.Status != want {
			t.Errorf("%s %s: %s, want %s; evidence:\n%s", r.ID, r.Name, r.Status, want, r.Evidence)
		}
	}
	if got := len(first.results); got != len(itemsFor(false)) {
		t.Errorf("%d results, want one per Linux item (%d)", got, len(itemsFor(false)))
	}

	second := runOnTree(t, family, "apply", root, state, units...)
	if again := snapshot(t, root); render(again) != render(after) {
		t.Errorf("the second run changed the tree:\n%s", render(again))
	}
	for _, call := range second.calls {
		for _, busy := range []string{"apt-get", "yum", "dnf", "update-grub", "grub2-mkconfig", "grubby"} {
			if strings.HasPrefix(call, busy) {
				t.Errorf("the second run called %q", call)
			}
		}
	}
	if a, b := statuses(first.results), statuses(second.results); !equalMaps(a, b) {
		t.Errorf("the second run reports %v, the first %v", b, a)
	}
}

// The debian family on a Debian 12 tree as the installer leaves it: a swap
// file, ens3 in /etc/network/interfaces, a persistent-net rule, no
// cloud-init.
func TestDebianOnTree(t *testing.T) {
	applyOnTree(t, "debian", "debian12", []string{"nftables"}, []string{"L14", "L18"})
}

// Verify mode on a broken tree (a swap file, an enabled firewall, a pinned
// MAC) reports exactly those three failures and changes nothing.
func TestDebianVerifyFindsBreakage(t *testing.T) {
	root := copyTree(t, "debian12")
	state := t.TempDir()
	runOnTree(t, "debian", "apply", root, state, "nftables")

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(filepath.Join(root, "etc/fstab"), os.O_APPEND|os.O_WRONLY, 0)
	must(err)
	_, err = f.WriteString("/swap.img none swap sw 0 0\n")
	must(err)
	must(f.Close())
	must(os.WriteFile(filepath.Join(root, "swap.img"), []byte("swap"), 0o600))
	must(os.WriteFile(filepath.Join(state, "svc", "nftables"), nil, 0o644))
	must(os.WriteFile(filepath.Join(root, "etc/udev/rules.d/70-persistent-net.rules"),
		[]byte(`SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:aa:bb:cc", NAME="eth0"`+"\n"), 0o644))
	before := render(snapshot(t, root))

	run := runOnTree(t, "debian", "verify", root, state, "nftables")
	var failed []string
	for _, r := range run.results {
		if r.Status == "fail" {
			failed = append(failed, r.ID)
		}
	}
	if !slices.Equal(failed, []string{"L02", "L15", "L16"}) {
		t.Errorf("verify failed %v, want [L02 L15 L16]; results:\n%s", failed, report.Table(run.results))
	}
	if after := render(snapshot(t, root)); after != before {
		t.Errorf("verify mode changed the tree")
	}
	for _, call := range run.calls {
		if strings.HasPrefix(call, "apt-get") || strings.HasPrefix(call, "systemctl enable") || strings.HasPrefix(call, "systemctl disable") {
			t.Errorf("verify mode called %q", call)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

type discardUi struct{ quietUi }

// A Debian system without ifupdown (networkd, as the fixture guest): L08
// and L11 pass on cloud-init alone.
func TestDebianWithoutIfupdown(t *testing.T) {
	root := copyTree(t, "debian12")
	if err := os.Remove(filepath.Join(root, "etc/network/interfaces")); err != nil {
		t.Fatal(err)
	}
	run := runOnTree(t, "debian", "apply", root, t.TempDir(), "nftables")
	for _, r := range run.results {
		if (r.ID == "L08" || r.ID == "L11") && r.Status != "pass" {
			t.Errorf("%s %s: %s\n%s", r.ID, r.Name, r.Status, r.Evidence)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc/network/interfaces")); !os.IsNotExist(err) {
		t.Errorf("apply created /etc/network/interfaces (%v)", err)
	}
}

// A step line reaches the UI while its item is applied, not once the apply
// ends: the package install under it may take minutes. The stub apt-get
// waits (STUB_GATE) until the test has read the install's step line.
func TestStepsShowWhileApplying(t *testing.T) {
	root := copyTree(t, "debian12")
	state := t.TempDir()
	gate := filepath.Join(state, "gate")
	cmd, _ := treeCommand(t, "debian", "apply", root, state, "nftables")
	cmd.Env = append(cmd.Env, "STUB_GATE="+gate)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ui := &gateUi{t: t, gate: gate}
	results := parse(out, ui)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the script: %v\n%s", err, stderr.String())
	}
	if !slices.ContainsFunc(ui.seen, func(s string) bool { return strings.HasPrefix(s, "L03 cloud-init: installing cloud-init") }) {
		t.Errorf("no step line for the cloud-init install; steps shown: %q", ui.seen)
	}
	if st := statuses(results)["L03"]; st != "pass" {
		t.Errorf("L03 %s, want pass (the stub install ran): %s", st, stderr.String())
	}
}

// gateUi is the UI parse shows the step lines on: it creates gate when an
// install's step is shown.
type gateUi struct {
	discardUi
	t    *testing.T
	gate string
	seen []string
}

func (u *gateUi) Say(m string) {
	u.seen = append(u.seen, m)
	if strings.Contains(m, ": installing ") {
		if err := os.WriteFile(u.gate, nil, 0o644); err != nil {
			u.t.Errorf("opening the stub's gate: %v", err)
		}
	}
}

// package_proxy reaches apt, yum and dnf in their environment, never on
// their command line: apt's history.log and yum's and dnf's history keep
// the command line in the image, with the proxy's credentials.
func TestProxyNeverOnCommandLine(t *testing.T) {
	const proxy = "http://builder:s3cret-Zq9@10.0.2.2:3128"
	for _, tc := range []struct{ family, tree, tool string }{
		{"debian", "debian12", "apt-get"},
		{"el7", "centos7", "yum"},
		{"el8", "rocky9", "dnf"},
	} {
		t.Run(tc.family, func(t *testing.T) {
			root, state := copyTree(t, tc.tree), t.TempDir()
			cmd, log := treeCommandWith(t, map[string]interface{}{"family": tc.family, "mode": "apply", "package_proxy": proxy}, root, state)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			calls, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			installs := 0
			for _, call := range strings.Split(string(calls), "\n") {
				if !strings.HasPrefix(call, tc.tool+" ") {
					continue
				}
				args, env, _ := strings.Cut(call, " [http_proxy=")
				if strings.Contains(args, "s3cret") || env != proxy+" https_proxy="+proxy+"]" {
					t.Errorf("call %q: want the proxy in the environment alone", call)
				}
				installs++
			}
			if installs == 0 {
				t.Errorf("%s was never called:\n%s", tc.tool, calls)
			}
		})
	}
}
