// Package examples_test checks the templates of example/: each one
// passes `packer init`, `packer fmt -check` and `packer validate` with the
// harness's Packer and plugin, declares its passwords sensitive and
// without a default, runs the whole pipeline, and its unattended-install
// files give one root partition, no LVM and no swap.
package examples_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v2"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

const exampleDir = "../../example"

// template is what the test reads of one example.
type template struct {
	file      string
	variables map[string]variable
	blocks    []string // "provisioner cloudimage-checklist", "post-processor cloudimage-glance", ...
}

type variable struct {
	hasDefault bool
	def        cty.Value
	sensitive  bool
}

func templates(t *testing.T) []template {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(exampleDir, "*.pkr.hcl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s: %v", exampleDir, err)
	}
	var l []template
	p := hclparse.NewParser()
	for _, f := range files {
		file, diags := p.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		tp := template{file: filepath.Base(f), variables: map[string]variable{}}
		content, _ := file.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
			{Type: "variable", LabelNames: []string{"name"}},
			{Type: "build"},
		}})
		for _, b := range content.Blocks {
			attrs, _ := b.Body.JustAttributes()
			switch b.Type {
			case "variable":
				v := variable{}
				if a, ok := attrs["default"]; ok {
					v.hasDefault = true
					// env() and the like are not known here: only literals are read.
					v.def, _ = a.Expr.Value(nil)
				}
				if a, ok := attrs["sensitive"]; ok {
					s, _ := a.Expr.Value(nil)
					v.sensitive = s.Type() == cty.Bool && s.True()
				}
				tp.variables[b.Labels[0]] = v
			case "build":
				tp.blocks = buildBlocks(b.Body)
			}
		}
		l = append(l, tp)
	}
	return l
}

// buildBlocks lists the provisioners and post-processors of a build block,
// those inside post-processors {} blocks included.
func buildBlocks(body hcl.Body) []string {
	schema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "provisioner", LabelNames: []string{"type"}},
		{Type: "post-processor", LabelNames: []string{"type"}},
		{Type: "post-processors"},
	}}
	content, _, _ := body.PartialContent(schema)
	var l []string
	for _, b := range content.Blocks {
		if b.Type == "post-processors" {
			l = append(l, buildBlocks(b.Body)...)
			continue
		}
		l = append(l, b.Type+" "+b.Labels[0])
	}
	return l
}

// Values for the variables that examples leave without a default: only
// these may be required.
var required = map[string]string{
	"iso_url":                "", // a local file, made by the test
	"iso_checksum":           "none",
	"administrator_password": "Examp1e-Passw0rd",
}

func TestExamplesValidate(t *testing.T) {
	testenv.Get(t, "PACKER_BIN", "CLOUDIMAGE_FIXTURE_ISO")
	iso := filepath.Join(t.TempDir(), "install.iso")
	if err := os.WriteFile(iso, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tp := range templates(t) {
		t.Run(tp.file, func(t *testing.T) {
			env := []string{"PKR_VAR_cloud=cloudimage-admin"}
			for name, v := range tp.variables {
				switch {
				case !v.hasDefault:
					val, ok := required[name]
					if !ok {
						t.Errorf("variable %s has no default; only %v may be required", name, slices.Sorted(maps.Keys(required)))
						continue
					}
					if name == "iso_url" {
						val = iso
					}
					env = append(env, "PKR_VAR_"+name+"="+val)
				case strings.HasSuffix(name, "iso_checksum"):
					// Packer reads a checksum file while it validates; the
					// test keeps to this machine (the network rule). A
					// null default stands for one a local works out.
					if d := v.def; !d.IsNull() && d.Type() == cty.String && !regexp.MustCompile(`^(file:https?://\S+|sha256:[0-9a-f]{64}|none)$`).MatchString(d.AsString()) {
						t.Errorf("variable %s: default %q is not a checksum file's URL, a sha256 or none", name, d.AsString())
					}
					env = append(env, "PKR_VAR_"+name+"=none")
				}
			}
			for _, args := range [][]string{{"init"}, {"fmt", "-check"}, {"validate"}} {
				cmd := testenv.PackerCommand(t.Context(), t, exampleDir, append(args, tp.file)...)
				cmd.Env = append(cmd.Env, env...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("packer %s %s: %v\n%s", strings.Join(args, " "), tp.file, err, out)
				}
			}
		})
	}
}

// No example commits a secret, and each runs the whole pipeline (verify
// only on Linux: it checks Linux images).
func TestExamplesPipelineAndSecrets(t *testing.T) {
	for _, tp := range templates(t) {
		t.Run(tp.file, func(t *testing.T) {
			for name, v := range tp.variables {
				if !strings.Contains(name, "password") {
					continue
				}
				if !v.sensitive {
					t.Errorf("variable %s is not sensitive", name)
				}
				if v.hasDefault && !v.def.IsNull() {
					t.Errorf("variable %s has a default: a secret in the repository", name)
				}
			}
			want := []string{"provisioner cloudimage-checklist", "post-processor cloudimage-sysprep", "post-processor cloudimage-verify", "post-processor cloudimage-glance"}
			if strings.HasPrefix(tp.file, "windows") {
				want = slices.DeleteFunc(want, func(s string) bool { return s == "post-processor cloudimage-verify" })
			}
			if !slices.Equal(tp.blocks, want) {
				t.Errorf("the build runs %v, want %v", tp.blocks, want)
			}
		})
	}
}

// Every unattended-install file makes one root partition: no LVM, no swap
// (CHECKLIST L01, L02; W02 wants the system volume last, so alone).
func TestUnattendedPartitioning(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(exampleDir, "http", "*", "*"))
	win, _ := filepath.Glob(filepath.Join(exampleDir, "windows", "*", "Autounattend.xml*"))
	files = append(files, win...)
	kinds := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := withoutComments(string(b))
		name := filepath.Base(f)
		var kind string
		var problems []string
		switch {
		case strings.HasPrefix(name, "ks.cfg"):
			kind = "kickstart"
			problems = kickstart(text)
		case strings.HasPrefix(name, "preseed.cfg"):
			kind = "preseed"
			problems = preseed(text)
		case strings.HasPrefix(name, "user-data"):
			kind = "autoinstall"
			problems = autoinstall(text)
		case strings.HasPrefix(name, "Autounattend.xml"):
			kind = "autounattend"
			if n := strings.Count(text, "<CreatePartition "); n != 1 {
				problems = append(problems, "CreatePartitions makes "+strconv.Itoa(n)+" partitions, want 1")
			}
		default:
			continue
		}
		kinds[kind]++
		rel, _ := filepath.Rel(exampleDir, f)
		for _, p := range problems {
			t.Errorf("%s: %s", rel, p)
		}
	}
	// The four installers' files are all there (the fixture's ks.cfg too).
	for _, k := range []string{"kickstart", "preseed", "autoinstall", "autounattend"} {
		if kinds[k] == 0 {
			t.Errorf("no %s file found", k)
		}
	}
	t.Logf("files checked: %v", kinds)
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func withoutComments(s string) string { return commentLine.ReplaceAllString(s, "") }

// kickstart: one part line, for /; no LVM, no swap, no autopart. The
// fixture installer's ks.cfg writes a prepared image instead ("image").
func kickstart(text string) []string {
	if regexp.MustCompile(`(?m)^image `).MatchString(text) {
		return nil
	}
	var problems []string
	parts := regexp.MustCompile(`(?m)^part\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(parts) != 1 || parts[0][1] != "/" {
		problems = append(problems, "part lines: "+strings.Join(flat(parts), ", ")+"; want one, for /")
	}
	for _, bad := range []string{"logvol", "volgroup", "autopart", "swap"} {
		if regexp.MustCompile(`(?m)^\s*[^#\n]*\b` + bad + `\b`).MatchString(text) {
			problems = append(problems, "has "+bad)
		}
	}
	return problems
}

// preseed: the regular method, a recipe of one partition mounted at /, and
// debian-installer told to go on without swap.
func preseed(text string) []string {
	var problems []string
	if !regexp.MustCompile(`partman-auto/method\s+string\s+regular`).MatchString(text) {
		problems = append(problems, "partman-auto/method is not regular")
	}
	recipe := regexp.MustCompile(`partman-auto/expert_recipe\s+string\s+(.*)`).FindStringSubmatch(text)
	if recipe == nil {
		return append(problems, "no partman-auto/expert_recipe")
	}
	if n := len(regexp.MustCompile(`mountpoint\{\s*/\s*\}`).FindAllString(recipe[1], -1)); n != 1 || strings.Count(recipe[1], "mountpoint{") != 1 {
		problems = append(problems, "the recipe does not mount exactly one partition, at /: "+recipe[1])
	}
	for _, bad := range []string{"linux-swap", "method{ swap }", "lvm"} {
		if strings.Contains(recipe[1], bad) {
			problems = append(problems, "the recipe has "+bad)
		}
	}
	if !regexp.MustCompile(`partman-basicfilesystems/no_swap\s+boolean\s+false`).MatchString(text) {
		problems = append(problems, "partman-basicfilesystems/no_swap is not false (d-i would stop to ask about swap)")
	}
	return problems
}

// autoinstall: storage with swap size 0 and one partition, mounted at /.
func autoinstall(text string) []string {
	var doc struct {
		Autoinstall struct {
			Storage struct {
				Swap *struct {
					Size interface{} `yaml:"size"` // 0, or a size such as 1G
				} `yaml:"swap"`
				Config []map[string]interface{} `yaml:"config"`
			} `yaml:"storage"`
		} `yaml:"autoinstall"`
	}
	// The file is a cloud-config, its first line a comment.
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return []string{"not YAML: " + err.Error()}
	}
	st := doc.Autoinstall.Storage
	var problems []string
	if st.Swap == nil || fmt.Sprint(st.Swap.Size) != "0" {
		problems = append(problems, "storage.swap.size is not 0 (subiquity makes a swap file by default)")
	}
	var partitions, mounts []string
	for _, c := range st.Config {
		switch c["type"] {
		case "partition":
			if c["flag"] != "bios_grub" {
				partitions = append(partitions, stringOf(c["id"]))
			}
		case "mount":
			mounts = append(mounts, stringOf(c["path"]))
		case "lvm_volgroup", "lvm_partition":
			problems = append(problems, "storage has LVM")
		}
	}
	if len(partitions) != 1 || !slices.Equal(mounts, []string{"/"}) {
		problems = append(problems, "partitions "+strings.Join(partitions, ",")+" mounted at "+strings.Join(mounts, ",")+"; want one, at /")
	}
	return problems
}

func stringOf(v interface{}) string { s, _ := v.(string); return s }

func flat(m [][]string) []string {
	var l []string
	for _, x := range m {
		l = append(l, x[1])
	}
	return l
}
