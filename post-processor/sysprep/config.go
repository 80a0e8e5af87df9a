package sysprep

import (
	"cmp"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
)

// Formats are the values formats accepts, with their files' extensions.
var Formats = []string{"qcow2", "raw", "vmdk", "vhdx", "vpc", "vdi"}

var extensions = map[string]string{"qcow2": "qcow2", "raw": "raw", "vmdk": "vmdk", "vhdx": "vhdx", "vpc": "vhd", "vdi": "vdi"}

// ChecksumTypes are the values checksum_types accepts.
var ChecksumTypes = []string{"sha256", "sha512", "md5"}

var (
	operationName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	accountName   = regexp.MustCompile(`^[a-z_][a-z0-9_.-]*\$?$`)
	outputName    = regexp.MustCompile(`^[A-Za-z0-9._+-]+$`)
)

func (c *Config) prepare(raws ...interface{}) error {
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-sysprep",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	for field, ops := range map[string][]string{"operations": c.Operations, "enable": c.Enable, "disable": c.Disable} {
		for _, op := range ops {
			if !operationName.MatchString(op) {
				add("%s: %q is not a virt-sysprep operation name (see virt-sysprep --list-operations)", field, op)
			}
		}
	}
	for _, op := range c.Enable {
		if slices.Contains(c.Disable, op) {
			add("enable and disable both name %q", op)
		}
	}
	for field, users := range map[string][]string{"keep_user_accounts": c.KeepUserAccounts, "remove_user_accounts": c.RemoveUserAccounts} {
		for _, u := range users {
			if !accountName.MatchString(u) {
				add("%s: %q is not a user name", field, u)
			}
		}
	}
	if len(c.KeepUserAccounts) > 0 && len(c.RemoveUserAccounts) > 0 {
		add("keep_user_accounts and remove_user_accounts: set one of them (virt-sysprep's user-account operation takes either)")
	}
	packersdk.LogSecretFilter.Set(argSecrets(c.ExtraArgs)...)
	for _, f := range c.FirstbootScripts {
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() {
			add("firstboot_scripts: %q is not a file on this machine", f)
		}
	}

	if c.Sparsify == nil {
		on := true
		c.Sparsify = &on
	}
	c.SparsifyMode = cmp.Or(c.SparsifyMode, "in-place")
	if !slices.Contains([]string{"copy", "in-place"}, c.SparsifyMode) {
		add("sparsify_mode %q is not one of copy, in-place", c.SparsifyMode)
	}
	if c.TmpDir != "" {
		if st, err := os.Stat(c.TmpDir); err != nil || !st.IsDir() {
			add("tmp_dir: %q is not a directory", c.TmpDir)
		}
	}

	if len(c.Formats) == 0 {
		c.Formats = []string{"qcow2"}
	}
	for i, f := range c.Formats {
		if !slices.Contains(Formats, f) {
			add("formats: %q is not one of %s", f, strings.Join(Formats, ", "))
		}
		if slices.Contains(c.Formats[:i], f) {
			add("formats: %q is named twice", f)
		}
	}
	if c.Compression == "" {
		c.Compression = "zlib"
		if !slices.Contains(c.Formats, "qcow2") {
			c.Compression = "none"
		}
	}
	if !slices.Contains([]string{"none", "zlib", "zstd"}, c.Compression) {
		add("compression %q is not one of none, zlib, zstd", c.Compression)
	} else if c.Compression != "none" && !slices.Contains(c.Formats, "qcow2") {
		add("compression %q applies to qcow2, which formats does not hold: set compression = \"none\"", c.Compression)
	}
	if c.OutputName != "" && (!outputName.MatchString(c.OutputName) || strings.Trim(c.OutputName, ".") == "") {
		add("output_name: %q is not a file name (letters, digits, . _ + -)", c.OutputName)
	}

	if c.ChecksumTypes == nil {
		c.ChecksumTypes = []string{"sha256"}
	}
	for _, t := range c.ChecksumTypes {
		if !slices.Contains(ChecksumTypes, t) {
			add("checksum_types: %q is not one of %s", t, strings.Join(ChecksumTypes, ", "))
		}
	}
	c.Accelerator = cmp.Or(c.Accelerator, "auto")
	if !slices.Contains([]string{"auto", "kvm", "tcg"}, c.Accelerator) {
		add("accelerator %q is not one of auto, kvm, tcg", c.Accelerator)
	}
	if c.LibguestfsBackend != "" && !regexp.MustCompile(`^[a-z]+(:[^\s]*)?$`).MatchString(c.LibguestfsBackend) {
		add("libguestfs_backend %q is not a backend such as direct, libvirt or libvirt:qemu:///system", c.LibguestfsBackend)
	}

	if len(errs) > 0 {
		return packersdk.MultiErrorAppend(nil, errs...)
	}
	return nil
}
