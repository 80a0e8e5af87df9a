package checklist

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

// Provisioner is the cloudimage-checklist provisioner.
type Provisioner struct {
	config Config
}

// ConfigSpec returns the HCL2 spec of the provisioner's configuration.
func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Prepare decodes and validates the configuration.
func (p *Provisioner) Prepare(raws ...interface{}) error { return p.config.prepare(raws...) }

// Provision applies the checklist (in apply mode), checks every item,
// shows the results, writes the report and fails on a failed item unless
// fail_on = "none".
func (p *Provisioner) Provision(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, generatedData map[string]interface{}) error {
	c := &p.config
	family := c.Family
	if family == "auto" {
		if generatedData["ConnType"] == "winrm" {
			family = "windows"
		} else {
			f, err := guestFamily(ctx, comm)
			if err != nil {
				return err
			}
			family = f
		}
	}
	script, where, err := c.script(family)
	if err != nil {
		return err
	}
	verb := map[string]string{"apply": "Applying and checking", "verify": "Checking"}[c.Mode]
	ui.Say(fmt.Sprintf("%s the OpenStack image checklist (family %s)...", verb, family))
	results, err := runScript(ctx, ui, comm, script, where)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("the checklist script reported no item")
	}
	ui.Say("Checklist:\n" + report.Table(results))

	path := c.reportPath(generatedData)
	if err := report.Write(path, results); err != nil {
		return err
	}
	ui.Say("Checklist report: " + path)
	if failed := report.Failures(results); len(failed) > 0 && c.FailOn == "required" {
		return fmt.Errorf("%d checklist items failed (fail_on = \"none\" reports without failing):\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}

// script is the family's script and where it runs.
func (c *Config) script(family string) (string, target, error) {
	if family != "windows" {
		script, err := linuxScript(c.settings(family))
		return script, linuxTarget(), err
	}
	if len(c.ExtraPackages) > 0 || c.PackageMirror != "" {
		return "", target{}, fmt.Errorf("family windows: extra_packages and package_mirror are for Linux guests")
	}
	script, err := windowsScript(c.settings(family), c.WindowsConfig)
	_, auth := splitProxy(c.PackageProxy)
	return script, windowsTarget(c.AdministratorPassword, auth), err
}

// reportPath is report_file, else checklist.json in the builder's output
// directory, else checklist-<build name>.json here.
func (c *Config) reportPath(generatedData map[string]interface{}) string {
	if c.ReportFile != "" {
		return c.ReportFile
	}
	if dir, ok := generatedData["OutputDir"].(string); ok && dir != "" && !strings.HasPrefix(dir, "<") {
		return filepath.Join(dir, "checklist.json")
	}
	return "checklist-" + c.PackerBuildName + ".json"
}
