package virt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// Define defines m as a persistent domain, not started.
func (d *Libvirt) Define(m Machine) (Domain, error) {
	x, err := m.XML()
	if err != nil {
		return Domain{}, err
	}
	if u, err := ParseURI(d.uri); err == nil && IsLocal(d.uri) && u.Path == "/system" {
		if x, err = keepOwners(x, d.backingOf, othersCanRead); err != nil {
			return Domain{}, err
		}
	}
	dom, err := d.conn.DomainDefineXML(x)
	if err != nil {
		return Domain{}, fmt.Errorf("defining domain %s: %w", m.Name, err)
	}
	return dom, nil
}

// keepOwners keeps libvirt's DAC driver from taking the user's files.
// When a system daemon starts a domain, it chowns every file of the
// domain's disks, backing files included, to the user QEMU runs as
// (libvirt-qemu), and gives a read-only or backing file back to nobody
// when it stops: the image verify booted on, the base image, the ISOs
// staged in place stayed owned by libvirt-qemu, no longer the user's who
// ran Packer. A file staged in place (ReadableInPlace) that QEMU can read
// as it is (readable by others, as qemu-img and downloads leave it) needs
// no relabelling: such a CD-ROM, floppy, or a writable disk's backing file
// gets <seclabel model='dac' relabel='no'/>, the backing file in a
// backingStore element of its own (a seclabel on the disk's source would
// also leave the overlay, libvirt's, unwritable to QEMU). Any other file
// (a volume libvirt made, mode 0600) is relabelled as before: it is
// libvirt's anyway. backingOf names a writable disk's backing file and its
// format ("" for none).
func keepOwners(domainXML string, backingOf func(path string) (file, format string), readable func(path string) bool) (string, error) {
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(domainXML); err != nil {
		return "", err
	}
	if dom.Devices == nil {
		return domainXML, nil
	}
	noRelabel := []libvirtxml.DomainDeviceSecLabel{{Model: "dac", Relabel: "no"}}
	changed := false
	for i := range dom.Devices.Disks {
		disk := &dom.Devices.Disks[i]
		if disk.Source == nil || disk.Source.File == nil {
			continue
		}
		if disk.ReadOnly != nil {
			if readable(disk.Source.File.File) {
				disk.Source.File.SecLabel, changed = noRelabel, true
			}
			continue
		}
		file, format := backingOf(disk.Source.File.File)
		if file == "" || format == "" || !readable(file) {
			continue
		}
		disk.BackingStore = &libvirtxml.DomainDiskBackingStore{
			Format: &libvirtxml.DomainDiskFormat{Type: format},
			Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: file, SecLabel: noRelabel}},
			// The end of the chain: the plugin's images have no backing file.
			BackingStore: &libvirtxml.DomainDiskBackingStore{},
		}
		changed = true
	}
	if !changed {
		return domainXML, nil
	}
	return dom.Marshal()
}

// othersCanRead: whether QEMU, running as another user, can read path
// where it is, without libvirt chowning it.
func othersCanRead(path string) bool {
	if ok, _ := ReadableInPlace("qemu:///system", path); !ok {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o004 != 0
}

// backingOf reads the backing file of the volume at path, if path is one.
func (d *Libvirt) backingOf(path string) (file, format string) {
	vol, err := d.conn.StorageVolLookupByPath(path)
	if err != nil {
		return "", ""
	}
	x, err := d.conn.StorageVolGetXMLDesc(vol, 0)
	if err != nil {
		return "", ""
	}
	var v libvirtxml.StorageVolume
	if v.Unmarshal(x) != nil || v.BackingStore == nil || v.BackingStore.Format == nil {
		return "", ""
	}
	return v.BackingStore.Path, v.BackingStore.Format.Type
}

// Remove destroys dom if it runs and undefines it, with its NVRAM. It
// looks the domain up by UUID, so that another domain that took the name
// since is never touched. A domain that does not exist is not an error:
// cleanup paths call this whatever state the build reached.
func (d *Libvirt) Remove(dom Domain) error {
	if _, err := d.conn.DomainLookupByUUID(dom.UUID); libvirt.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("looking up domain %s: %w", dom.Name, err)
	}
	d.unwatch(dom)
	if err := d.Destroy(dom); err != nil {
		return err
	}
	if err := d.conn.DomainUndefineFlags(dom, libvirt.DomainUndefineNvram); err != nil && !libvirt.IsNotFound(err) {
		return fmt.Errorf("undefining domain %s: %w", dom.Name, err)
	}
	return nil
}

// Mark finds the domain named name and reads the plugin's mark from its
// persistent definition.
func (d *Libvirt) Mark(name string) (*Found, error) {
	dom, err := d.conn.DomainLookupByName(name)
	if libvirt.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("looking up domain %s: %w", name, err)
	}
	x, err := d.conn.DomainGetXMLDesc(dom, libvirt.DomainXMLInactive)
	if err != nil {
		return nil, fmt.Errorf("domain %s: %w", name, err)
	}
	var xd libvirtxml.Domain
	if err := xd.Unmarshal(x); err != nil {
		return nil, fmt.Errorf("domain %s: %w", name, err)
	}
	found := &Found{Domain: dom}
	if xd.Metadata != nil {
		if found.Mark, err = ParseMark(xd.Metadata.XML); err != nil {
			return nil, fmt.Errorf("domain %s: %w", name, err)
		}
	}
	return found, nil
}

// Destroy forces dom off; a domain already off, or gone, is not an error.
func (d *Libvirt) Destroy(dom Domain) error {
	state, _, err := d.conn.DomainGetState(dom, 0)
	if libvirt.IsNotFound(err) || err == nil && libvirt.DomainState(state) == libvirt.DomainShutoff {
		return nil
	}
	if err := d.conn.DomainDestroy(dom); err != nil && !libvirt.IsNotFound(err) && !isNotRunning(err) {
		return fmt.Errorf("destroying domain %s: %w", dom.Name, err)
	}
	return nil
}

// isNotRunning detects VIR_ERR_OPERATION_INVALID ("domain is not
// running"): the domain stopped between the look and the destroy.
func isNotRunning(err error) bool {
	var e libvirt.Error
	return errors.As(err, &e) && e.Code == uint32(libvirt.ErrOperationInvalid)
}

// Start starts dom paused, attaches its serial console to console over a
// connection of its own (so that the stream never queues behind the
// build's other calls), starts watching its lifecycle, and resumes it.
func (d *Libvirt) Start(ctx context.Context, dom Domain, console io.Writer) (io.Closer, error) {
	if _, err := d.conn.DomainCreateWithFlags(dom, uint32(libvirt.DomainStartPaused)); err != nil {
		return nil, fmt.Errorf("starting domain %s: %w", dom.Name, err)
	}
	w, err := watchStop(d.conn.Libvirt, dom)
	if err != nil {
		return nil, fmt.Errorf("watching domain %s: %w", dom.Name, err)
	}
	d.mu.Lock()
	if old := d.watches[dom.UUID]; old != nil {
		old.close()
	}
	d.watches[dom.UUID] = w
	d.mu.Unlock()
	a := &attachment{d: d, dom: dom}
	if a.console, err = d.conn.Beside(); err != nil {
		a.Close()
		return nil, err
	}
	go a.console.DomainOpenConsole(dom, nil, console, uint32(libvirt.DomainConsoleForce)) //nolint:errcheck // ends with the connection
	if err := d.conn.DomainResume(dom); err != nil {
		a.Close()
		return nil, fmt.Errorf("resuming domain %s: %w", dom.Name, err)
	}
	return a, nil
}

// attachment is what Start attached to a domain: the console's connection
// and the lifecycle watch.
type attachment struct {
	d       *Libvirt
	dom     Domain
	console *Conn
}

func (a *attachment) Close() error {
	a.d.unwatch(a.dom)
	if a.console != nil {
		return a.console.Close()
	}
	return nil
}

func (d *Libvirt) unwatch(dom Domain) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.watches[dom.UUID]; w != nil {
		w.close()
		delete(d.watches, dom.UUID)
	}
}

// VNCPort reads the VNC port libvirt chose for the running domain.
func (d *Libvirt) VNCPort(dom Domain) (int, error) {
	x, err := d.conn.DomainGetXMLDesc(dom, 0)
	if err != nil {
		return 0, fmt.Errorf("domain %s: %w", dom.Name, err)
	}
	return VNCPort(x)
}

// Shutdown presses the ACPI power button.
func (d *Libvirt) Shutdown(dom Domain) error {
	if err := d.conn.DomainShutdownFlags(dom, libvirt.DomainShutdownAcpiPowerBtn); err != nil {
		return fmt.Errorf("ACPI shutdown of %s: %w", dom.Name, err)
	}
	return nil
}

// WaitStopped waits on the lifecycle events of the watch Start made, and
// looks at the domain's state now and then, so that a lost event stream
// costs seconds, not the build.
func (d *Libvirt) WaitStopped(ctx context.Context, dom Domain) bool {
	d.mu.Lock()
	w := d.watches[dom.UUID]
	d.mu.Unlock()
	var stopped <-chan struct{}
	if w != nil {
		stopped = w.stopped
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		if d.isOff(dom) {
			return true
		}
		select {
		case <-stopped:
			return true
		case <-ctx.Done():
			return false
		case <-d.conn.Disconnected():
			// Cut by the keepalive: nothing will tell any more.
			return false
		case <-tick.C:
		}
	}
}

func (d *Libvirt) isOff(dom Domain) bool {
	state, _, err := d.conn.DomainGetState(dom, 0)
	return err == nil && libvirt.DomainState(state) == libvirt.DomainShutoff || libvirt.IsNotFound(err)
}

// AttachDevice hot-plugs a device into the running domain.
func (d *Libvirt) AttachDevice(dom Domain, deviceXML string) error {
	if err := d.conn.DomainAttachDeviceFlags(dom, deviceXML, uint32(libvirt.DomainDeviceModifyLive)); err != nil {
		return fmt.Errorf("attaching a device to %s: %w", dom.Name, err)
	}
	return nil
}

// ResizeDisk grows the running domain's disk whose source is path.
func (d *Libvirt) ResizeDisk(dom Domain, path string, bytes uint64) error {
	if err := d.conn.DomainBlockResize(dom, path, bytes, libvirt.DomainBlockResizeBytes); err != nil {
		return fmt.Errorf("resizing %s of %s: %w", path, dom.Name, err)
	}
	return nil
}

// domainXML reads a domain's live XML.
func (d *Libvirt) domainXML(dom Domain) (*libvirtxml.Domain, error) {
	x, err := d.conn.DomainGetXMLDesc(dom, 0)
	if err != nil {
		return nil, err
	}
	var xd libvirtxml.Domain
	if err := xd.Unmarshal(x); err != nil {
		return nil, err
	}
	return &xd, nil
}
