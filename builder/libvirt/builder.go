// Package libvirt is the cloudimage-libvirt builder: it boots an install ISO
// or a base image as a libvirt domain, provisions it, and exports its disk.
package libvirt

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/packerbuilderdata"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// BuilderID identifies this builder's artifacts to post-processors.
const BuilderID = "cloudimage.libvirt"

// Builder is the cloudimage-libvirt builder.
type Builder struct {
	config Config
	// Seams for unit tests: the libvirt driver (a fake instead of
	// step.Libvirt) and qemu-img; nil means the real ones.
	dial func(uri string) (virt.Driver, error)
	img  *imageTool
}

// ConfigSpec returns the HCL2 spec of the builder's configuration.
func (b *Builder) ConfigSpec() hcldec.ObjectSpec { return b.config.FlatMapstructure().HCL2Spec() }

// generatedData are the builder's ${build.X} variables.
var generatedData = []string{"VMName", "DomainType", "DiskFormat", "DiskPath", "ConsoleLog", "HTTPIP", "OutputDir"}

// Prepare validates the configuration.
func (b *Builder) Prepare(raws ...interface{}) ([]string, []string, error) {
	warnings, err := b.config.Prepare(raws...)
	if err != nil {
		return nil, warnings, err
	}
	return generatedData, warnings, nil
}

// Run builds the image.
func (b *Builder) Run(ctx context.Context, ui packersdk.Ui, hook packersdk.Hook) (packersdk.Artifact, error) {
	c := &b.config
	state := new(multistep.BasicStateBag)
	state.Put("config", c)
	state.Put("hook", hook)
	state.Put("ui", ui)

	dial, img := b.dial, qemuImg
	if dial == nil {
		dial = step.Libvirt
	}
	if b.img != nil {
		img = *b.img
	}
	steps := []multistep.Step{
		&step.Connect{URI: c.LibvirtURI, Pool: c.StoragePool, DomainType: &c.DomainType, Dial: dial, Check: c.fitsDomainType},
		&step.Claim{Name: c.VMName, Component: "cloudimage-libvirt", DomainType: &c.DomainType, Force: c.PackerForce},
	}
	if c.DiskImageURL != "" {
		steps = append(steps, &commonsteps.StepDownload{
			Checksum: c.DiskImageChecksum, Description: "base image", ResultKey: "base_image_path",
			Url: []string{c.DiskImageURL}, Extension: "img",
		})
	} else {
		steps = append(steps, &commonsteps.StepDownload{
			Checksum: c.ISOChecksum, Description: "ISO", ResultKey: "iso_path",
			Url: c.ISOUrls, Extension: c.TargetExtension, TargetPath: c.TargetPath,
		})
	}
	steps = append(steps, &stepInspectBase{config: c, inspect: img.inspect})
	for i, iso := range c.AdditionalISOFiles {
		key, _ := additionalISOKey(i)
		steps = append(steps, &commonsteps.StepDownload{
			Checksum: iso.ISOChecksum, Description: fmt.Sprintf("additional ISO %d", i+1), ResultKey: key,
			Url: iso.urls, Extension: "iso",
		})
	}
	steps = append(steps,
		&stepOutputDir{StepOutputDir: commonsteps.StepOutputDir{Force: c.PackerForce, Path: c.OutputDir}},
		&commonsteps.StepCreateFloppy{
			Files: c.FloppyFiles, Directories: c.FloppyDirectories, Content: c.FloppyContent, Label: c.FloppyLabel,
		},
		&commonsteps.StepCreateCD{Files: c.CDFiles, Content: c.CDContent, Label: c.CDLabel},
		&stepHTTPServer{config: c},
		&stepStageFiles{config: c},
		&stepCreateDisk{config: c, copyInto: img.copyInto},
		&stepDefineDomain{config: c},
		&stepStartDomain{config: c},
		&stepBootCommand{config: c},
		&stepWaitForSSH{config: c},
		&communicator.StepConnect{
			Config:    &c.Comm,
			Host:      commHost(c),
			SSHConfig: c.Comm.SSHConfigFunc(),
			SSHPort:   commPort(c),
			WinRMPort: commPort(c),
		},
		&commonsteps.StepProvision{},
		&commonsteps.StepCleanupTempKeys{Comm: &c.Comm},
		&stepShutdown{config: c},
		&stepExport{config: c, img: img},
	)

	runner := commonsteps.NewRunnerWithPauseFn(steps, c.PackerConfig, ui, state)
	runner.Run(ctx, state)
	if err, ok := state.GetOk("error"); ok {
		return nil, err.(error)
	}
	if _, ok := state.GetOk(multistep.StateCancelled); ok {
		return nil, errors.New("build was cancelled")
	}
	if _, ok := state.GetOk(multistep.StateHalted); ok {
		return nil, errors.New("build was halted")
	}
	return b.artifact(state), nil
}

// putData records a value of the build's generated data (`${build.X}`) as
// soon as a step knows it, so that provisioners see it too.
func putData(state multistep.StateBag, key string, value any) {
	(&packerbuilderdata.GeneratedData{State: state}).Put(key, value)
}

func (b *Builder) artifact(state multistep.StateBag) *Artifact {
	c := &b.config
	info := state.Get("disk_info").(image.Info)
	consoleLog, _ := state.Get("console_log").(string)
	return newArtifact(c.OutputDir, state.Get("disk_path").(string), consoleLog, info,
		map[string]interface{}{
			artifact.KeyDiskPath:      state.Get("disk_path"),
			artifact.KeyDiskFormat:    c.DiskFormat,
			artifact.KeyVirtualSize:   info.VirtualSize,
			artifact.KeyConsoleLog:    consoleLog,
			artifact.KeyGeneratedData: state.Get("generated_data"),
			// For verify's machine and Glance's hw_firmware_type and
			// hw_machine_type.
			artifact.KeyFirmware:    c.Firmware,
			artifact.KeyMachineType: c.MachineType,
			// For Glance's architecture, hw_disk_bus, hw_scsi_model,
			// hw_vif_model and os_secure_boot: what the guest was
			// installed and proved with.
			artifact.KeyArchitecture:  virt.Arch,
			artifact.KeyDiskInterface: c.DiskInterface,
			artifact.KeyNetDevice:     c.NetDevice,
			artifact.KeySecureBoot:    c.SecureBoot,
		})
}

// commHost is where the communicator connects: ssh_host/winrm_host when
// set, the forwarded loopback port with user-mode networking, else the
// guest's address as libvirt learns it.
func commHost(c *Config) func(multistep.StateBag) (string, error) {
	return func(state multistep.StateBag) (string, error) {
		if h := c.Comm.Host(); h != "" {
			return h, nil
		}
		if h, ok := state.GetOk("comm_host"); ok {
			return h.(string), nil
		}
		addr, source, err := state.Get("driver").(virt.Driver).GuestAddress(state.Get("domain").(virt.Domain))
		if err != nil {
			return "", err
		}
		// Said when it changes: an installer and the installed system
		// may get different addresses.
		if prev, _ := state.GetOk("guest_address"); prev != addr {
			state.Put("guest_address", addr)
			state.Get("ui").(packersdk.Ui).Sayf("Guest address: %s (from the %s)", addr, source)
		}
		return addr, nil
	}
}

// commPort is the communicator's port: the forwarded host port with
// user-mode networking, the configured one otherwise.
func commPort(c *Config) func(multistep.StateBag) (int, error) {
	return func(state multistep.StateBag) (int, error) {
		if p, ok := state.GetOk("comm_port"); ok {
			return p.(int), nil
		}
		if p := c.Comm.Port(); p > 0 {
			return p, nil
		}
		return 0, fmt.Errorf("no communicator port")
	}
}
