package virt

import (
	"context"
	"image"
	"io"
	"time"

	"github.com/digitalocean/go-libvirt"
)

// Domain names a libvirt domain: its name and UUID.
type Domain = libvirt.Domain

// Driver is everything the builder's and verify's steps do to libvirt. Its
// one real implementation is Libvirt (go-libvirt); package virt/fake holds
// an in-memory one that lets a unit test drive any step without a daemon.
// The steps find it in the state bag under "driver".
type Driver interface {
	// URI is the libvirt URI the driver is connected to.
	URI() string
	// Close ends the connection and whatever Start attached.
	Close() error

	// ResolveDomainType settles domain_type "auto" (kvm where the host can
	// run it, qemu otherwise); other values come back as they are. why
	// says what decided.
	ResolveDomainType(ctx context.Context, domainType string) (typ, why string)
	// CheckPool fails unless the storage pool exists and is active.
	CheckPool(pool string) error
	// NetworkAddress is the host's IPv4 address on a libvirt network: where
	// its guests reach the host.
	NetworkAddress(network string) (string, error)
	// ReserveForwards reserves a port in min-max on the libvirt host for
	// each guest port, for user-mode networking to forward (Forwards).
	ReserveForwards(ctx context.Context, min, max int, guestPorts ...int) (*Forwards, error)

	// CreateVolume creates a volume in pool.
	CreateVolume(pool string, spec VolumeSpec) (Volume, error)
	// DeleteVolume deletes the named volume of pool; one that does not
	// exist is not an error, as cleanups call this whatever was reached.
	DeleteVolume(pool, name string) error
	// UploadVolume streams size bytes of r into vol.
	UploadVolume(ctx context.Context, vol Volume, r io.Reader, size uint64) error
	// DownloadVolume streams vol into w.
	DownloadVolume(ctx context.Context, vol Volume, w io.Writer) error
	// VolumeAllocation is how many bytes vol takes on the host.
	VolumeAllocation(vol Volume) (uint64, error)

	// Define defines m as a persistent domain, not started; with m.UUID
	// set, it replaces the definition of that domain.
	Define(m Machine) (Domain, error)
	// Start starts dom paused, streams its serial console into console,
	// watches its lifecycle events, and only then lets it run, so that
	// console holds the firmware's first line and no stop is missed.
	// Closing the returned Closer detaches the console and the watch.
	Start(ctx context.Context, dom Domain, console io.Writer) (io.Closer, error)
	// VNCPort is the VNC port libvirt gave the running domain.
	VNCPort(dom Domain) (int, error)
	// SendKeys sends key presses and releases to the running domain's
	// keyboard, in order.
	SendKeys(dom Domain, events []KeyEvent) error
	// Screenshot is the running domain's screen.
	Screenshot(dom Domain) (image.Image, error)
	// Shutdown presses the domain's ACPI power button.
	Shutdown(dom Domain) error
	// WaitStopped returns true once dom is shut off, false when ctx ends
	// first.
	WaitStopped(ctx context.Context, dom Domain) bool
	// Destroy forces dom off; a domain already off is not an error.
	Destroy(dom Domain) error
	// Remove destroys dom if it runs and undefines it, NVRAM included. A
	// domain that does not exist is not an error. Only Owned calls it, on
	// a domain the plugin marked.
	Remove(dom Domain) error
	// Mark finds the domain named name and the plugin's mark on it (nil:
	// a domain someone else made); nil when there is no such domain.
	Mark(name string) (*Found, error)
	// VolumeExists reports whether pool has a volume named name.
	VolumeExists(pool, name string) (bool, error)

	// GuestAddress is the guest's IPv4 address and the source that knew
	// it (DHCP leases, the guest agent, the ARP table); an error while
	// none knows one yet: callers poll.
	GuestAddress(dom Domain) (addr, source string, err error)
	// AgentCommand sends a QEMU guest agent command (JSON) and returns its
	// answer.
	AgentCommand(dom Domain, command string, timeout time.Duration) (string, error)
	// SetUserPassword sets an account's password through the guest agent
	// (guest-set-user-password).
	SetUserPassword(dom Domain, user, password string) error
	// AttachDevice hot-plugs a device (its XML) into the running domain.
	AttachDevice(dom Domain, deviceXML string) error
	// ResizeDisk grows the running domain's disk whose source is path.
	ResizeDisk(dom Domain, path string, bytes uint64) error
}

// VolumeSpec describes a volume to create.
type VolumeSpec struct {
	Name     string
	Format   string // qcow2, raw
	Capacity uint64 // bytes
	// Backing, when set, makes the volume a qcow2 overlay on this file of
	// the libvirt host, whose format is BackingFormat (never guessed).
	Backing       string
	BackingFormat string
}

// Found is a domain found by name, with the plugin's mark on it; Mark is
// nil on a domain the plugin did not make.
type Found struct {
	Domain Domain
	Mark   *Mark
}
