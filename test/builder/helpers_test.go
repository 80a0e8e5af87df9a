package builder_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digitalocean/go-libvirt"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// build runs `packer build` on a template in dir and returns its output;
// the test fails when the build does.
func build(t *testing.T, dir, tmpl string, args ...string) string {
	t.Helper()
	return buildVia(t, nil, dir, tmpl, args...)
}

// buildVia is build with Packer run through a wrapper command, such as
// `ip netns exec NS`.
func buildVia(t *testing.T, wrapper []string, dir, tmpl string, args ...string) string {
	t.Helper()
	cmd := testenv.PackerCommand(context.Background(), t, dir, append(append([]string{"build"}, args...), tmpl)...)
	if len(wrapper) > 0 {
		path, err := exec.LookPath(wrapper[0])
		must(t, err)
		cmd.Path, cmd.Args = path, append(wrapper, cmd.Args...)
	}
	cmd.Env = append(cmd.Env, "PACKER_CACHE_DIR="+filepath.Join(dir, "packer_cache"))
	out, err := cmd.CombinedOutput()
	// Kept beside the template for a look after a failure (-on-error=abort).
	if werr := os.WriteFile(filepath.Join(dir, "build.log"), out, 0o644); werr != nil {
		t.Errorf("keeping the build's log: %v", werr)
	}
	if err != nil {
		t.Fatalf("packer build %s: %v\n%s", tmpl, err, out)
	}
	return string(out)
}

// checksumFile writes a SHA256SUMS file for path into dir and returns its
// path, for iso_checksum = "file:...".
func checksumFile(t *testing.T, dir, path string) string {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	must(t, err)
	sums := filepath.Join(dir, "SHA256SUMS")
	must(t, os.WriteFile(sums, []byte(hex.EncodeToString(h.Sum(nil))+"  "+filepath.Base(path)+"\n"), 0o644))
	return sums
}

// assertNoLeftovers fails the test if a domain or a volume of the default
// pool whose name starts with name is left behind.
func assertNoLeftovers(t *testing.T, name string) {
	t.Helper()
	assertNoLeftoversOn(t, testenv.Connect(t), name)
}

// assertNoLeftoversOn is assertNoLeftovers on another libvirtd.
func assertNoLeftoversOn(t *testing.T, l *libvirt.Libvirt, name string) {
	t.Helper()
	testenv.AssertNoLeftovers(t, l, name)
}

// repoRoot is the checkout's root: go test runs in the package's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	return root
}

// installerHTTP makes dir/http for the fixture installer: the Debian disk
// image and a ks file of the given lines. It returns the folder.
func installerHTTP(t *testing.T, dir string, ks ...string) string {
	t.Helper()
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_RAWGZ")
	http := filepath.Join(dir, "http")
	must(t, os.MkdirAll(http, 0o755))
	must(t, os.Symlink(env[0], filepath.Join(http, "debian12.raw.gz")))
	ks = append([]string{"image debian12.raw.gz"}, ks...)
	must(t, os.WriteFile(filepath.Join(http, "ks.cfg"), []byte(strings.Join(ks, "\n")+"\n"), 0o644))
	return http
}

// assertOutput fails the test for each line of want that out lacks.
func assertOutput(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the build output lacks %q", w)
		}
	}
}

// extraISO makes an ISO labelled label holding marker.txt, as a stand-in
// for a driver disc, and returns its path.
func extraISO(t *testing.T, dir, label, marker string) string {
	t.Helper()
	src := filepath.Join(dir, label+"-src")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.WriteFile(filepath.Join(src, "marker.txt"), []byte(marker+"\n"), 0o644))
	iso := filepath.Join(dir, strings.ToLower(label)+".iso")
	testenv.Run(t, "xorriso", "-as", "mkisofs", "-quiet", "-J", "-R", "-V", label, "-o", iso, src)
	return iso
}

// typedMarker is typed after the ks URL in boot commands that check what
// the guest received: mixed case, digits and shifted punctuation, the keys
// a dropped shift or a dropped key would change. The fixture installer
// ignores it.
const typedMarker = "m=Zq9-Xw8_Vr7.Ut6,Ps5+On4=Ml3:Kj2@Ih1%Gf0^Ed~Cb!Ay#"

// assertTyped fails the test unless the guest's kernel booted with the ks
// URL and typedMarker exactly as the boot command typed them at the
// isolinux prompt: the kernel prints its command line to the serial
// console, which the build keeps in console.log.
func assertTyped(t *testing.T, consoleLog string) {
	t.Helper()
	console, err := os.ReadFile(consoleLog)
	must(t, err)
	for _, line := range strings.Split(string(console), "\n") {
		if _, cmdline, ok := strings.Cut(line, "Command line: "); ok {
			cmdline = strings.TrimRight(cmdline, "\r")
			if !strings.Contains(cmdline, "/ks.cfg "+typedMarker) || !strings.HasSuffix(cmdline, typedMarker) {
				t.Errorf("the guest's kernel command line is %q, want the typed ks URL and %q at its end", cmdline, typedMarker)
			}
			return
		}
	}
	t.Errorf("%s has no kernel command line", consoleLog)
}
