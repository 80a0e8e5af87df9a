//go:generate go tool packer-sdc struct-markdown

package verify

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/field"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Config is the configuration of the cloudimage-verify post-processor. It
// boots the artifact's disk the way Nova would (a copy-on-write overlay on
// a larger disk, a config drive) and checks the checklist's items live. The
// libvirt options have the builder's names and defaults.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The libvirt connection URI, as in the builder. Defaults to
	// `qemu:///system`.
	LibvirtURI string `mapstructure:"libvirt_uri"`
	// The storage pool that holds the overlay (and, where QEMU cannot read
	// the image where it is, a copy of it). Defaults to `default`.
	StoragePool string `mapstructure:"storage_pool"`
	// The domain's name: 1 to 63 letters, digits, `.`, `_` or `-`, as its
	// volumes and files are named after it. Defaults to
	// `cloudimage-verify-<build name>`.
	VMName string `mapstructure:"vm_name"`
	// `kvm` (the default), `qemu` (software emulation) or `auto`.
	DomainType string `mapstructure:"domain_type"`
	// The machine type. Defaults to the input artifact's (the builder's
	// machine_type), else `pc`.
	MachineType string `mapstructure:"machine_type"`
	// `bios` or `uefi`. Defaults to the input artifact's firmware, else
	// `bios`.
	Firmware string `mapstructure:"firmware"`
	// Virtual CPUs. Defaults to 1.
	CPUs int `mapstructure:"cpus"`
	// Memory in MiB. Defaults to 1024.
	Memory int `mapstructure:"memory"`
	// The disk's bus, as Nova's hw_disk_bus: `virtio` (the default),
	// `virtio-scsi`, `scsi`, `sata` or `ide`.
	DiskInterface string `mapstructure:"disk_interface"`
	// The config drive's bus: `ide` (the default for `pc`, as Nova) or
	// `sata` (the default for `q35`).
	CDROMInterface string `mapstructure:"cdrom_interface"`
	// The NIC model, as Nova's hw_vif_model: `virtio` (the default),
	// `e1000`, `e1000e` or `rtl8139`.
	NetDevice string `mapstructure:"net_device"`
	// `user` (the default: QEMU user-mode networking, the guest's SSH and
	// web server ports forwarded to the libvirt host), `network` (a libvirt
	// network) or `bridge`. The second NIC (L11) goes on the same kind.
	NetworkMode string `mapstructure:"network_mode"`
	// The libvirt network of `network_mode = "network"`. Defaults to
	// `default`.
	Network string `mapstructure:"network"`
	// The host bridge of `network_mode = "bridge"`.
	NetworkBridge string `mapstructure:"network_bridge"`
	// The host ports the forwards of `network_mode = "user"` are taken
	// from. Default 2222-4444.
	HostPortMin int `mapstructure:"host_port_min"`
	HostPortMax int `mapstructure:"host_port_max"`

	// How much larger than the image the instance's disk is, so that
	// growroot has something to grow into (L10). Defaults to `2G`.
	DiskSizeIncrease string `mapstructure:"disk_size_increase"`
	// How much the disk grows again, while the instance runs, before it is
	// rebooted: the flavor resize of L17. Defaults to `1G`.
	ResizeIncrease string `mapstructure:"resize_increase"`
	// Where the instance finds its metadata: `configdrive` (the default: an
	// ISO 9660 volume labelled config-2 with openstack/latest/meta_data.json,
	// user_data and network_data.json, as Nova writes it) or `nocloud`
	// (labelled cidata, with meta-data and user-data).
	Datasource string `mapstructure:"datasource"`
	// The hostname in the metadata (L09). Defaults to the domain's name,
	// made a host name (other characters become -, cut to 63).
	Hostname string `mapstructure:"hostname"`
	// The account whose password user-data sets and the guest agent resets,
	// and that logs in with the key: a POSIX user name (lower-case letters,
	// digits, `_` and `-`). Defaults to `root` (L04).
	SSHUsername string `mapstructure:"ssh_username"`
	// The guest's SSH port. Defaults to 22.
	SSHPort int `mapstructure:"ssh_port"`
	// The guest's web server port (L13). Defaults to 80.
	HTTPPort int `mapstructure:"http_port"`
	// How long the instance may take to answer on SSH after each boot.
	// Defaults to `10m` (software emulation is slow).
	BootTimeout time.Duration `mapstructure:"boot_timeout"`
	// How long cloud-init may take to finish after SSH answers. Defaults
	// to `5m`.
	CloudInitTimeout time.Duration `mapstructure:"cloud_init_timeout"`

	// Items not checked, reported as not-applicable, such as `["L13"]` for
	// an image without a web server.
	SkipItems []string `mapstructure:"skip_items"`
	// `required` (the default: an item that fails fails the build) or
	// `none` (report only).
	FailOn string `mapstructure:"fail_on"`
	// Leave the domain and its disk running when an item fails or the run
	// stops on an error, for debugging (virsh console). A cancelled build
	// (Ctrl-C) leaves nothing. The next run of the same `vm_name` stops
	// until they are removed: with `-force`, or by hand. Defaults to false:
	// everything is removed.
	KeepOnFailure bool `mapstructure:"keep_on_failure"`
	// Where the JSON report is written (the checklist provisioner's shape:
	// id, name, status, evidence per item). Defaults to
	// `verify-<build name>.json` in the current directory. The instance's
	// serial console log is written beside it, as
	// `verify-<build name>.console.log`, and kept whatever the outcome.
	ReportFile string `mapstructure:"report_file"`

	ctx       interpolate.Context
	increase  uint64
	resize    uint64
	skipItems map[string]bool
}

var notHostname = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

var hostname = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

func (c *Config) prepare(raws ...interface{}) error {
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-verify",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	c.LibvirtURI = cmp.Or(c.LibvirtURI, virt.DefaultURI)
	if _, err := virt.ParseURI(c.LibvirtURI); err != nil {
		add("libvirt_uri: %w", err)
	}
	c.StoragePool = cmp.Or(c.StoragePool, "default")
	if c.VMName == "" {
		c.VMName = "cloudimage-verify-" + cmp.Or(notHostname.ReplaceAllString(c.PackerBuildName, "-"), "image")
		c.VMName = c.VMName[:min(len(c.VMName), 63)]
	}
	errs = append(errs, virt.CheckDomainName("vm_name", c.VMName))
	if c.MachineType != "" {
		errs = append(errs, virt.CheckMachineType("machine_type", c.MachineType), c.checkBuses())
	}
	c.DomainType = cmp.Or(c.DomainType, "kvm")
	errs = append(errs, field.OneOf("domain_type", c.DomainType, virt.DomainTypes))
	if c.Firmware != "" {
		errs = append(errs, field.OneOf("firmware", c.Firmware, []string{"bios", "uefi"}))
	}
	c.CPUs = cmp.Or(c.CPUs, 1)
	if c.CPUs < 1 {
		add("cpus: %d is not a number of CPUs", c.CPUs)
	}
	c.Memory = cmp.Or(c.Memory, 1024)
	if c.Memory < 128 {
		add("memory: %d MiB is too little (128 at least)", c.Memory)
	}
	c.DiskInterface = cmp.Or(c.DiskInterface, "virtio")
	errs = append(errs, field.OneOf("disk_interface", c.DiskInterface, []string{"virtio", "virtio-scsi", "scsi", "sata", "ide"}))
	if c.CDROMInterface != "" {
		errs = append(errs, field.OneOf("cdrom_interface", c.CDROMInterface, []string{"ide", "sata", "scsi"}))
	}
	c.NetDevice = cmp.Or(c.NetDevice, "virtio")
	errs = append(errs, field.OneOf("net_device", c.NetDevice, []string{"virtio", "e1000", "e1000e", "rtl8139"}))
	c.NetworkMode = cmp.Or(c.NetworkMode, virt.NetworkUser)
	errs = append(errs, field.OneOf("network_mode", c.NetworkMode, virt.NetworkModes))
	c.Network = cmp.Or(c.Network, "default")
	if (c.NetworkMode == virt.NetworkBridge) != (c.NetworkBridge != "") {
		add(`network_bridge: set it with network_mode = "bridge", and only then`)
	}
	c.HostPortMin = cmp.Or(c.HostPortMin, 2222)
	c.HostPortMax = cmp.Or(c.HostPortMax, 4444)
	if c.HostPortMin < 1 || c.HostPortMax > 65535 || c.HostPortMin > c.HostPortMax {
		add("host_port_min/host_port_max: %d-%d is not a port range within 1-65535", c.HostPortMin, c.HostPortMax)
	}

	var err error
	if c.increase, err = field.ParseSize(cmp.Or(c.DiskSizeIncrease, "2G")); err != nil {
		add("disk_size_increase: %w", err)
	}
	if c.resize, err = field.ParseSize(cmp.Or(c.ResizeIncrease, "1G")); err != nil {
		add("resize_increase: %w", err)
	}
	c.Datasource = cmp.Or(c.Datasource, "configdrive")
	errs = append(errs, field.OneOf("datasource", c.Datasource, []string{"configdrive", "nocloud"}))
	if c.Hostname == "" {
		c.Hostname = strings.Trim(notHostname.ReplaceAllString(c.VMName, "-"), "-")
		c.Hostname = strings.TrimRight(c.Hostname[:min(len(c.Hostname), 63)], "-")
	}
	if !hostname.MatchString(c.Hostname) {
		add("hostname: %q is not a host name (letters, digits and -, up to 63)", c.Hostname)
	}
	c.SSHUsername = cmp.Or(c.SSHUsername, "root")
	// It goes into user-data and the probe's shell as it is.
	if !userName.MatchString(c.SSHUsername) {
		add("ssh_username: %q is not a user name (a lower-case letter or _, then up to 31 lower-case letters, digits, _ or -)", c.SSHUsername)
	}
	c.SSHPort = cmp.Or(c.SSHPort, 22)
	c.HTTPPort = cmp.Or(c.HTTPPort, 80)
	for f, p := range map[string]int{"ssh_port": c.SSHPort, "http_port": c.HTTPPort} {
		if p < 1 || p > 65535 {
			add("%s: %d is not a port", f, p)
		}
	}
	c.BootTimeout = cmp.Or(c.BootTimeout, 10*time.Minute)
	c.CloudInitTimeout = cmp.Or(c.CloudInitTimeout, 5*time.Minute)
	if c.BootTimeout < 0 || c.CloudInitTimeout < 0 {
		add("boot_timeout/cloud_init_timeout: a duration is not negative")
	}
	c.skipItems = map[string]bool{}
	for _, id := range c.SkipItems {
		if !report.Known(id) {
			add("skip_items: %q is not an item of the checklist (L01-L18, W01-W08)", id)
		}
		c.skipItems[id] = true
	}
	c.FailOn = cmp.Or(c.FailOn, "required")
	errs = append(errs, field.OneOf("fail_on", c.FailOn, []string{"required", "none"}))
	c.ReportFile = cmp.Or(c.ReportFile, "verify-"+cmp.Or(c.PackerBuildName, "image")+".json")

	errs = slices.DeleteFunc(errs, func(e error) bool { return e == nil })
	if len(errs) > 0 {
		return packersdk.MultiErrorAppend(nil, errs...)
	}
	packersdk.LogSecretFilter.Set(virt.URIPassword(c.LibvirtURI))
	return nil
}

// userName is a POSIX portable user name, the useradd default.
var userName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// checkBuses fails an IDE disk or config drive on a q35 machine; Prepare
// asks it of machine_type, PostProcess of the artifact's.
func (c *Config) checkBuses() error {
	return virt.CheckBuses(c.MachineType, virt.Bus{Field: "disk_interface", Value: c.DiskInterface}, virt.Bus{Field: "cdrom_interface", Value: c.CDROMInterface})
}
