package checklist

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed scripts/*.sh scripts/*.ps1
var scripts embed.FS

// linuxFamilies are the families whose scripts exist: the files of
// scripts/ beside the shared lib.sh and linux.sh, in Families' order.
var linuxFamilies = func() []string {
	var fams []string
	for _, f := range Families {
		if _, err := scripts.ReadFile("scripts/" + f + ".sh"); err == nil {
			fams = append(fams, f)
		}
	}
	return fams
}()

// familyParts are the files of scripts/ a family's script is made of,
// after lib.sh and linux.sh: the parts it shares with related families,
// then its own file.
func familyParts(family string) []string {
	shared := map[string][]string{
		"debian":         {"apt.sh", "ifupdown.sh"},
		"ubuntu1404":     {"apt.sh"},
		"ubuntu1604":     {"apt.sh", "ifupdown.sh"},
		"ubuntu-netplan": {"apt.sh"},
		"el6":            {"rpm.sh", "nozeroconf.sh"},
		"el7":            {"rpm.sh", "networkmanager.sh", "nozeroconf.sh"},
		"el8":            {"rpm.sh", "networkmanager.sh"},
	}
	return append(shared[family], family+".sh")
}

// settings are the CL_* variables the scripts read.
type settings struct {
	Family, Mode  string
	Items, Skip   []string
	Datasources   []string
	SELinux       string
	Proxy, Mirror string
	ExtraPackages []string
	// Root is the tree the scripts work on: "" in a guest; a prepared
	// tree in the family tests.
	Root string
}

func (c *Config) settings(family string) settings {
	items := itemsFor(family == "windows")
	var skip []string
	for _, id := range items {
		if slices.Contains(c.skipped(), id) {
			skip = append(skip, id)
		}
	}
	return settings{
		Family: family, Mode: c.Mode,
		Items: items, Skip: skip,
		Datasources: c.CloudInitDatasources, SELinux: c.SELinux,
		Proxy: c.PackageProxy, Mirror: c.PackageMirror, ExtraPackages: c.ExtraPackages,
	}
}

// linuxScript is the one script sent to a Linux guest: the settings, the
// shared code, the family's file, and the run. It becomes root through
// `sudo -n` when the communicator's user is not.
func linuxScript(s settings) (string, error) {
	if !slices.Contains(linuxFamilies, s.Family) {
		return "", fmt.Errorf("family %s: this version has the scripts of %s only", s.Family, strings.Join(linuxFamilies, ", "))
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# cloudimage-checklist: makes the OpenStack image checklist true, and checks it.\n")
	if s.Root == "" {
		b.WriteString(`if [ "$(id -u)" != 0 ]; then exec sudo -n sh "$0" "$@"; fi` + "\n")
	}
	for _, v := range [][2]string{
		{"CL_FAMILY", s.Family},
		{"CL_MODE", s.Mode},
		{"CL_ITEMS", strings.Join(s.Items, " ")},
		{"CL_SKIP", strings.Join(s.Skip, " ")},
		{"CL_DATASOURCES", strings.Join(s.Datasources, ", ")},
		{"CL_SELINUX", s.SELinux},
		{"CL_PROXY", s.Proxy},
		{"CL_MIRROR", s.Mirror},
		{"CL_EXTRA_PACKAGES", strings.Join(s.ExtraPackages, " ")},
		{"CL_ROOT", s.Root},
	} {
		fmt.Fprintf(&b, "%s=%s\n", v[0], shellQuote(v[1]))
	}
	for _, name := range append([]string{"lib.sh", "linux.sh"}, familyParts(s.Family)...) {
		text, err := scripts.ReadFile("scripts/" + name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n# ---- %s ----\n", name)
		b.Write(text)
	}
	b.WriteString("\ninstall_extra_packages\nrun_checklist\n")
	return b.String(), nil
}

// shellQuote quotes s for sh: in single quotes, each quote inside it
// closed, escaped with a backslash and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
