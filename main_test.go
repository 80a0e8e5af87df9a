package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The built plugin describes all five components to Packer, and the release
// asset names carry the plugin API version it reports.
func TestDescribeListsComponents(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "packer-plugin-cloudimage")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "describe").Output()
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	var d struct {
		Version        string   `json:"version"`
		APIVersion     string   `json:"api_version"`
		Builders       []string `json:"builders"`
		Provisioners   []string `json:"provisioners"`
		PostProcessors []string `json:"post_processors"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("describe output %q: %v", out, err)
	}
	slices.Sort(d.PostProcessors)
	if !slices.Equal(d.Builders, []string{"libvirt"}) || !slices.Equal(d.Provisioners, []string{"checklist"}) ||
		!slices.Equal(d.PostProcessors, []string{"glance", "sysprep", "verify"}) {
		t.Fatalf("describe lists builders %v, provisioners %v, post-processors %v", d.Builders, d.Provisioners, d.PostProcessors)
	}
	goreleaser, err := os.ReadFile(".goreleaser.yml")
	if err != nil {
		t.Fatal(err)
	}
	// The release reads API_VERSION from describe (release.yml,
	// hack/release-check.sh), so the asset names follow the SDK's.
	if want := "_v{{ .Version }}_{{ .Env.API_VERSION }}_{{ .Os }}_{{ .Arch }}"; strings.Count(string(goreleaser), want) != 3 {
		t.Fatalf(".goreleaser.yml should name both builds and the archive with %q", want)
	}
	if d.APIVersion != "x5.0" {
		t.Errorf("describe says api_version %q: packer init looks for x5.0 assets", d.APIVersion)
	}
}
