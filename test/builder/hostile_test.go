package builder_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The known attack on image builders: the guest writes onto its raw disk
// a qcow2 header that names a file of the host as its backing file. A
// qemu-img that guesses the disk's format would read that file into the
// exported image. The builder names the format (raw), so the export holds
// the guest's bytes, header included, and none of the host file's. (The
// fixture installer writes the "image" its ks file names onto the disk:
// here, that header.) Its boot command is typed over VNC
// (boot_key_transport = "vnc"), the transport the other ISO builds do not
// use, once boot_wait = "auto" finds the boot screen ready on this
// machine's libvirt, and must reach the guest key for key.
func TestHostileGuestDisk(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO")
	dir := testenv.VMDir(t)
	name := testenv.DomainName(t)[:24]
	secret := filepath.Join(dir, "host-secret")
	marker := "host-secret-" + testenv.RandomHex(t, 16)
	must(t, os.WriteFile(secret, []byte(strings.Repeat(marker+"\n", 4096)), 0o644))

	// The header, as the guest writes it: gzipped for the installer.
	header := filepath.Join(dir, "header.qcow2")
	testenv.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", secret, "-F", "raw", header, "256M")
	raw, err := os.ReadFile(header)
	must(t, err)
	http := filepath.Join(dir, "http")
	must(t, os.MkdirAll(http, 0o755))
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err = w.Write(raw)
	must(t, err)
	must(t, w.Close())
	must(t, os.WriteFile(filepath.Join(http, "hostile.raw.gz"), gz.Bytes(), 0o644))
	must(t, os.WriteFile(filepath.Join(http, "ks.cfg"), []byte("image hostile.raw.gz\npoweroff\n"), 0o644))

	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "hostile" {
  iso_url          = %q
  iso_checksum     = "none"
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = %q
  disk_size        = "256M"
  disk_format      = "raw"
  http_directory   = %q
  boot_wait          = "auto"
  boot_key_transport = "vnc"
  boot_command       = ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg %s<enter>"]
  communicator     = "none"
  output_directory = %q
}
build { sources = ["source.cloudimage-libvirt.hostile"] }
`, env[0], name, http, typedMarker, filepath.Join(dir, "out"))
	must(t, os.WriteFile(filepath.Join(dir, "hostile.pkr.hcl"), []byte(tmpl), 0o644))
	start := time.Now()
	out := build(t, dir, "hostile.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out, "The boot screen was ready after")
	assertTyped(t, filepath.Join(dir, "out", "console.log"))

	disk := filepath.Join(dir, "out", name+".raw")
	got, err := os.ReadFile(disk)
	must(t, err)
	if bytes.Contains(got, []byte(marker)) {
		t.Fatalf("the exported image holds the host file's bytes")
	}
	if len(got) != 256<<20 || !bytes.Equal(got[:len(raw)], raw) {
		t.Errorf("the exported image (%d bytes) does not hold the guest's bytes, the header first", len(got))
	}
	// The attack was live: guessing, qemu-img takes the export for a qcow2
	// backed by the host file.
	if info, err := image.Inspect(t.Context(), disk, ""); err != nil || info.Format != "qcow2" || info.BackingFile != secret {
		t.Errorf("qemu-img's guess of the exported image: %+v, %v; want qcow2 backed by %s", info, err, secret)
	}
	assertNoLeftovers(t, name)
}
