// Command packer-plugin-cloudimage is the Packer plugin that turns an OS
// install ISO into an OpenStack-ready image on a libvirt host, proves that
// the image works, and uploads it to Glance.
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"

	"github.com/cloudimage/packer-plugin-cloudimage/builder/libvirt"
	"github.com/cloudimage/packer-plugin-cloudimage/post-processor/glance"
	"github.com/cloudimage/packer-plugin-cloudimage/post-processor/sysprep"
	"github.com/cloudimage/packer-plugin-cloudimage/post-processor/verify"
	"github.com/cloudimage/packer-plugin-cloudimage/provisioner/checklist"
	"github.com/cloudimage/packer-plugin-cloudimage/version"
)

func main() {
	// Millisecond log times: PACKER_LOG=1 then shows where a build's time
	// goes (hack/bench-builder.sh reads them).
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	pps := plugin.NewSet()
	// Packer prefixes each name with the plugin's, giving cloudimage-libvirt,
	// cloudimage-checklist, cloudimage-sysprep, cloudimage-verify and
	// cloudimage-glance in templates.
	pps.RegisterBuilder("libvirt", new(libvirt.Builder))
	pps.RegisterProvisioner("checklist", new(checklist.Provisioner))
	pps.RegisterPostProcessor("sysprep", new(sysprep.PostProcessor))
	pps.RegisterPostProcessor("verify", new(verify.PostProcessor))
	pps.RegisterPostProcessor("glance", new(glance.PostProcessor))
	pps.SetVersion(version.PluginVersion)
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}
