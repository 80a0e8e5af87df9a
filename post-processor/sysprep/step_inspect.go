package sysprep

import (
	"context"
	"encoding/xml"
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// Guest is what inspection tells of the disk's operating system; it goes
// forward in the artifact's state as "guest" for the later
// post-processors (Glance's os_type, os_distro, os_version).
type Guest struct {
	Type     string `xml:"name"` // linux, windows, ...
	Distro   string `xml:"distro"`
	Product  string `xml:"product_name"`
	Major    string `xml:"major_version"`
	Minor    string `xml:"minor_version"`
	Arch     string `xml:"arch"`
	Hostname string `xml:"hostname"`
	Osinfo   string `xml:"osinfo"` // libosinfo's short id, such as debian12
}

// Map is the state's form of Guest.
func (g Guest) Map() map[string]string {
	return map[string]string{
		"os_type": g.Type, "distro": g.Distro, "product_name": g.Product,
		"major_version": g.Major, "minor_version": g.Minor, "arch": g.Arch,
		"hostname": g.Hostname, "osinfo": g.Osinfo,
	}
}

// stepInspect starts virt-inspector on the input (read-only) to learn the
// guest's OS: virt-sysprep is skipped for Windows, and the facts go
// forward. The inspection runs beside virt-sysprep, which works on the
// overlay meanwhile: each libguestfs appliance keeps one CPU busy, so on
// two cores the inspection's appliance costs no time. stepSysprep waits
// for its answer ("inspection" in the state) before it keeps its work.
type stepInspect struct {
	cancel context.CancelFunc
	insp   *background[Guest]
}

func (s *stepInspect) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	t := state.Get("tool").(tool)
	input := state.Get("input").(string)
	info := state.Get("input_info").(image.Info)
	ui.Say(fmt.Sprintf("Inspecting %s...", input))
	ctx, s.cancel = context.WithCancel(ctx)
	s.insp = inBackground(func() (Guest, error) {
		out, err := t.output(ctx, "virt-inspector", "--no-applications", "--no-icon", "--format="+info.Format, "-a", input)
		if err != nil {
			return Guest{}, err
		}
		g, err := parseInspection(out)
		if err != nil {
			return Guest{}, fmt.Errorf("virt-inspector -a %s: %w", input, err)
		}
		return g, nil
	})
	state.Put("inspection", s.insp)
	return multistep.ActionContinue
}

// Cleanup stops an inspection still running (a failed or cancelled run)
// and waits for it: no appliance outlives the post-processor.
func (s *stepInspect) Cleanup(multistep.StateBag) {
	if s.cancel != nil {
		s.cancel()
		<-s.insp.done
	}
}

// takeInspection waits for the inspection and puts its guest in the
// state.
func takeInspection(ctx context.Context, state multistep.StateBag) (Guest, error) {
	g, err := state.Get("inspection").(*background[Guest]).wait(ctx)
	if err != nil {
		return Guest{}, err
	}
	state.Get("ui").(packersdk.Ui).Say(fmt.Sprintf("guest: %s %s %s.%s (%s), osinfo %s", g.Type, g.Distro, g.Major, g.Minor, g.Product, g.Osinfo))
	state.Put("guest", g)
	return g, nil
}

// parseInspection reads virt-inspector's XML: the first operating system.
func parseInspection(data []byte) (Guest, error) {
	var doc struct {
		OS []Guest `xml:"operatingsystem"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return Guest{}, fmt.Errorf("reading its XML: %w", err)
	}
	if len(doc.OS) == 0 {
		return Guest{}, fmt.Errorf("no operating system found on the disk")
	}
	return doc.OS[0], nil
}
