// Package fake is an in-memory virt.Driver for unit tests: domains and
// volumes in maps, a log of the calls, and hooks to make a call fail or a
// guest behave (power off, answer the agent), so that a test drives a
// builder or verify step without libvirtd, QEMU or root.
package fake

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Domain states.
const (
	Defined = "defined" // shut off
	Running = "running"
)

// Domain is a defined domain.
type Domain struct {
	Machine virt.Machine
	UUID    libvirt.UUID
	State   string
	// Attached are the devices hot-plugged into it.
	Attached []string
	stopped  chan struct{}
}

// Volume is a volume of a pool; its bytes live in a file under Driver.Dir.
type Volume struct {
	Spec virt.VolumeSpec
	Path string
}

// Driver is the in-memory virt.Driver. The zero value is not usable: make
// one with New.
type Driver struct {
	mu sync.Mutex
	// Dir holds the volumes' files, one per volume, named as the volume.
	Dir string
	// URIValue is what URI returns; qemu:///system by default. A remote
	// URI makes the steps upload what they would use in place.
	URIValue string
	// Pools are the active storage pools; "default" by default.
	Pools   []string
	Domains map[string]*Domain
	// Volumes are keyed "pool/name".
	Volumes map[string]*Volume
	// Calls lists the calls made, as "Method arg", in order.
	Calls []string
	// Errs makes a method fail: the method's name, optionally followed by
	// " " and its first argument (a domain, volume or pool name), maps to
	// the error it returns.
	Errs map[string]error

	// DomainType is what ResolveDomainType settles "auto" to; "qemu" by
	// default.
	DomainType string
	// ConsoleOutput is written to a domain's console when it starts.
	ConsoleOutput string
	// StopOnShutdown makes an ACPI power button press stop the domain (a
	// guest that obeys it); otherwise it keeps running.
	StopOnShutdown bool
	// StopAfter, when set, stops a domain that long after it starts (an
	// installer that powers off by itself).
	StopAfter time.Duration
	// Address is the guest's address GuestAddress returns ("" = none yet).
	Address, AddressSource string
	// NetworkAddresses are the host's addresses on libvirt networks.
	NetworkAddresses map[string]string
	// VNC is the VNC port of running domains; 5900 by default.
	VNC int
	// Agent answers guest agent commands; nil = the agent does not answer.
	Agent func(dom, command string) (string, error)
	// Passwords are the passwords set through the agent, "dom/user" ->
	// password.
	Passwords map[string]string
	// Keys are the key events sent to each domain, by name.
	Keys map[string][]virt.KeyEvent
	// Screen is the running domain's screen at its shot'th screenshot
	// (from 0); nil = a screenshot fails.
	Screen func(dom string, shot int) image.Image
	shots  map[string]int
}

var _ virt.Driver = (*Driver)(nil)

// New returns an empty driver whose volume files live in a temporary
// folder of the test's.
func New(dir string) *Driver {
	return &Driver{
		Dir: dir, URIValue: virt.DefaultURI, Pools: []string{"default"},
		Domains: map[string]*Domain{}, Volumes: map[string]*Volume{},
		Errs: map[string]error{}, DomainType: "qemu", VNC: 5900,
		NetworkAddresses: map[string]string{}, Passwords: map[string]string{},
	}
}

// call records a call and returns the error set for it, if any.
func (d *Driver) call(method, arg string) error {
	d.Calls = append(d.Calls, strings.TrimSpace(method+" "+arg))
	if err, ok := d.Errs[method+" "+arg]; ok {
		return err
	}
	return d.Errs[method]
}

// Called reports how many calls of method (with arg, when given) were made.
func (d *Driver) Called(method string, arg ...string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.Calls {
		name, rest, _ := strings.Cut(c, " ")
		if name == method && (len(arg) == 0 || rest == strings.Join(arg, " ")) {
			n++
		}
	}
	return n
}

// Domain returns the named domain, nil if there is none.
func (d *Driver) Domain(name string) *Domain {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Domains[name]
}

// Volume returns the named volume of pool, nil if there is none.
func (d *Driver) Volume(pool, name string) *Volume {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Volumes[pool+"/"+name]
}

// VolumeNames lists the volumes, "pool/name", sorted.
func (d *Driver) VolumeNames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var names []string
	for k := range d.Volumes {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// DomainNames lists the domains, sorted.
func (d *Driver) DomainNames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var names []string
	for k := range d.Domains {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Password is the password the guest agent set for user of dom.
func (d *Driver) Password(dom, user string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	pw, ok := d.Passwords[dom+"/"+user]
	return pw, ok
}

// Leftovers lists what a run left behind: "domain NAME" and
// "volume POOL/NAME" lines, sorted; none after a clean run.
func (d *Driver) Leftovers() []string {
	var left []string
	for _, n := range d.DomainNames() {
		left = append(left, "domain "+n)
	}
	for _, n := range d.VolumeNames() {
		left = append(left, "volume "+n)
	}
	return left
}

// Foreign adds a domain of the given name that the plugin did not make, or
// with mark, one an earlier build left; and volumes in pool "default".
func (d *Driver) Foreign(domain string, mark *virt.Mark, volumes ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if domain != "" {
		dom := &Domain{Machine: virt.Machine{Name: domain, DomainType: "qemu", Mark: mark}, State: Defined}
		_, _ = rand.Read(dom.UUID[:])
		d.Domains[domain] = dom
	}
	for _, name := range volumes {
		path := filepath.Join(d.Dir, name)
		_ = os.WriteFile(path, []byte("not the plugin's"), 0o644)
		d.Volumes["default/"+name] = &Volume{Spec: virt.VolumeSpec{Name: name, Format: "raw", Capacity: 16}, Path: path}
	}
}

// Stop powers a running domain off, as a guest that shuts itself down.
func (d *Driver) Stop(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dom := d.Domains[name]; dom != nil {
		d.stop(dom)
	}
}

func (d *Driver) stop(dom *Domain) {
	if dom.State == Running {
		dom.State = Defined
		close(dom.stopped)
	}
}

func (d *Driver) URI() string { return d.URIValue }

func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.call("Close", "")
}

func (d *Driver) ResolveDomainType(_ context.Context, domainType string) (string, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_ = d.call("ResolveDomainType", domainType)
	if domainType != "auto" {
		return domainType, "as configured"
	}
	return d.DomainType, "the fake driver says so"
}

func (d *Driver) CheckPool(pool string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("CheckPool", pool); err != nil {
		return err
	}
	if !slices.Contains(d.Pools, pool) {
		return fmt.Errorf("storage_pool %q: Storage pool not found", pool)
	}
	return nil
}

// ReserveForwards holds real ports on this machine, as the real driver
// does for a local daemon.
func (d *Driver) ReserveForwards(ctx context.Context, min, max int, guestPorts ...int) (*virt.Forwards, error) {
	d.mu.Lock()
	err := d.call("ReserveForwards", "")
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return virt.ReserveForwards(ctx, d.URIValue, min, max, guestPorts...)
}

func (d *Driver) NetworkAddress(network string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("NetworkAddress", network); err != nil {
		return "", err
	}
	addr, ok := d.NetworkAddresses[network]
	if !ok {
		return "", fmt.Errorf("libvirt network %q: Network not found", network)
	}
	return addr, nil
}

func (d *Driver) CreateVolume(pool string, spec virt.VolumeSpec) (virt.Volume, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("CreateVolume", spec.Name); err != nil {
		return virt.Volume{}, err
	}
	if !slices.Contains(d.Pools, pool) {
		return virt.Volume{}, fmt.Errorf("storage_pool %q: Storage pool not found", pool)
	}
	key := pool + "/" + spec.Name
	if _, ok := d.Volumes[key]; ok {
		return virt.Volume{}, fmt.Errorf("creating volume %s in pool %s: storage volume already exists", spec.Name, pool)
	}
	if spec.Backing != "" && spec.BackingFormat == "" {
		return virt.Volume{}, fmt.Errorf("volume %s: the backing file has no format", spec.Name)
	}
	path := filepath.Join(d.Dir, spec.Name)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return virt.Volume{}, err
	}
	d.Volumes[key] = &Volume{Spec: spec, Path: path}
	return volume(pool, spec.Name, path), nil
}

func volume(pool, name, path string) virt.Volume {
	return virt.Volume{Vol: libvirt.StorageVol{Pool: pool, Name: name, Key: path}, Path: path}
}

func (d *Driver) VolumeExists(pool, name string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("VolumeExists", name); err != nil {
		return false, err
	}
	if !slices.Contains(d.Pools, pool) {
		return false, fmt.Errorf("storage_pool %q: Storage pool not found", pool)
	}
	_, ok := d.Volumes[pool+"/"+name]
	return ok, nil
}

func (d *Driver) DeleteVolume(pool, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("DeleteVolume", name); err != nil {
		return err
	}
	v, ok := d.Volumes[pool+"/"+name]
	if !ok {
		return nil
	}
	delete(d.Volumes, pool+"/"+name)
	return os.Remove(v.Path)
}

func (d *Driver) lookup(vol virt.Volume) (*Volume, error) {
	v, ok := d.Volumes[vol.Vol.Pool+"/"+vol.Vol.Name]
	if !ok {
		return nil, fmt.Errorf("volume %s: Storage volume not found", vol.Vol.Name)
	}
	return v, nil
}

// stream records a streaming call and finds its volume; the stream itself
// runs without the lock, as a real one takes its time.
func (d *Driver) stream(method string, vol virt.Volume) (*Volume, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call(method, vol.Vol.Name); err != nil {
		return nil, err
	}
	return d.lookup(vol)
}

func (d *Driver) UploadVolume(ctx context.Context, vol virt.Volume, r io.Reader, size uint64) error {
	v, err := d.stream("UploadVolume", vol)
	if err != nil {
		return err
	}
	f, err := os.Create(v.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r, int64(size)))
	if err != nil {
		return fmt.Errorf("uploading into volume %s: %w", vol.Vol.Name, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if uint64(n) != size {
		return fmt.Errorf("uploading into volume %s: %d of %d bytes", vol.Vol.Name, n, size)
	}
	return nil
}

func (d *Driver) DownloadVolume(ctx context.Context, vol virt.Volume, w io.Writer) error {
	v, err := d.stream("DownloadVolume", vol)
	if err != nil {
		return err
	}
	f, err := os.Open(v.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("downloading volume %s: %w", vol.Vol.Name, err)
	}
	return ctx.Err()
}

func (d *Driver) VolumeAllocation(vol virt.Volume) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("VolumeAllocation", vol.Vol.Name); err != nil {
		return 0, err
	}
	v, err := d.lookup(vol)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(v.Path)
	if err != nil {
		return 0, err
	}
	return uint64(st.Size()), nil
}

func (d *Driver) Define(m virt.Machine) (virt.Domain, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("Define", m.Name); err != nil {
		return virt.Domain{}, err
	}
	// The machine's XML must be valid, as libvirt would have it.
	if _, err := m.XML(); err != nil {
		return virt.Domain{}, err
	}
	// As libvirt: a definition of the same name and UUID replaces the
	// domain's; another UUID is refused.
	if got, ok := d.Domains[m.Name]; ok {
		if got.UUID != m.UUID {
			return virt.Domain{}, fmt.Errorf("defining domain %s: domain '%s' already exists with uuid %s", m.Name, m.Name, virt.FormatUUID(got.UUID))
		}
		got.Machine = m
		return virt.Domain{Name: m.Name, UUID: got.UUID}, nil
	}
	dom := &Domain{Machine: m, State: Defined, UUID: m.UUID}
	if dom.UUID == (libvirt.UUID{}) {
		_, _ = rand.Read(dom.UUID[:])
	}
	d.Domains[m.Name] = dom
	return virt.Domain{Name: m.Name, UUID: dom.UUID}, nil
}

func (d *Driver) Mark(name string) (*virt.Found, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("Mark", name); err != nil {
		return nil, err
	}
	got, ok := d.Domains[name]
	if !ok {
		return nil, nil
	}
	return &virt.Found{Domain: virt.Domain{Name: name, UUID: got.UUID}, Mark: got.Machine.Mark}, nil
}

// running records a call of method on dom and returns the domain, which
// must be running, as libvirt wants for acting on a guest.
func (d *Driver) running(method string, dom virt.Domain) (*Domain, error) {
	if err := d.call(method, dom.Name); err != nil {
		return nil, err
	}
	got, err := d.domain(dom)
	if err != nil {
		return nil, err
	}
	if got.State != Running {
		return nil, errors.New("domain is not running")
	}
	return got, nil
}

func (d *Driver) domain(dom virt.Domain) (*Domain, error) {
	got, ok := d.Domains[dom.Name]
	if !ok || got.UUID != dom.UUID {
		return nil, fmt.Errorf("domain %s: Domain not found", dom.Name)
	}
	return got, nil
}

func (d *Driver) Start(ctx context.Context, dom virt.Domain, console io.Writer) (io.Closer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("Start", dom.Name); err != nil {
		return nil, err
	}
	got, err := d.domain(dom)
	if err != nil {
		return nil, err
	}
	if got.State == Running {
		return nil, fmt.Errorf("starting domain %s: domain is already running", dom.Name)
	}
	got.State, got.stopped = Running, make(chan struct{})
	if d.ConsoleOutput != "" {
		if _, err := io.WriteString(console, d.ConsoleOutput); err != nil {
			return nil, err
		}
	}
	if d.StopAfter > 0 {
		stopped := got.stopped
		time.AfterFunc(d.StopAfter, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if got.stopped == stopped {
				d.stop(got)
			}
		})
	}
	return closer(func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.Calls = append(d.Calls, "Detach "+dom.Name)
		return nil
	}), nil
}

type closer func() error

func (c closer) Close() error { return c() }

func (d *Driver) VNCPort(dom virt.Domain) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("VNCPort", dom.Name); err != nil {
		return 0, err
	}
	got, err := d.domain(dom)
	if err != nil {
		return 0, err
	}
	if got.State != Running || got.Machine.VNC == nil {
		return 0, fmt.Errorf("the domain has no VNC display with a port (is it running?): %q", dom.Name)
	}
	return d.VNC, nil
}

func (d *Driver) SendKeys(dom virt.Domain, events []virt.KeyEvent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.running("SendKeys", dom); err != nil {
		return fmt.Errorf("sending keys to %s: %w", dom.Name, err)
	}
	if d.Keys == nil {
		d.Keys = map[string][]virt.KeyEvent{}
	}
	d.Keys[dom.Name] = append(d.Keys[dom.Name], events...)
	return nil
}

func (d *Driver) Screenshot(dom virt.Domain) (image.Image, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.running("Screenshot", dom); err != nil {
		return nil, fmt.Errorf("domain %s: screenshot: %w", dom.Name, err)
	}
	if d.Screen == nil {
		return nil, fmt.Errorf("domain %s: screenshot: the fake has no Screen", dom.Name)
	}
	if d.shots == nil {
		d.shots = map[string]int{}
	}
	n := d.shots[dom.Name]
	d.shots[dom.Name]++
	return d.Screen(dom.Name, n), nil
}

// Typed is what the key events sent to the domain named name type, as a
// US keyboard would: letters, digits and punctuation, shifted while a
// shift key is down; "ret" is a newline; other keys show as <qcode> when
// pressed.
func (d *Driver) Typed(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return virt.Typed(d.Keys[name])
}

func (d *Driver) Shutdown(dom virt.Domain) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	got, err := d.running("Shutdown", dom)
	if err != nil {
		return fmt.Errorf("ACPI shutdown of %s: %w", dom.Name, err)
	}
	if d.StopOnShutdown {
		d.stop(got)
	}
	return nil
}

func (d *Driver) WaitStopped(ctx context.Context, dom virt.Domain) bool {
	d.mu.Lock()
	_ = d.call("WaitStopped", dom.Name)
	got, err := d.domain(dom)
	if err != nil || got.State != Running {
		d.mu.Unlock()
		return true
	}
	stopped := got.stopped
	d.mu.Unlock()
	select {
	case <-stopped:
		return true
	case <-ctx.Done():
		return false
	}
}

func (d *Driver) Destroy(dom virt.Domain) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("Destroy", dom.Name); err != nil {
		return err
	}
	if got, err := d.domain(dom); err == nil {
		d.stop(got)
	}
	return nil
}

func (d *Driver) Remove(dom virt.Domain) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("Remove", dom.Name); err != nil {
		return err
	}
	if got, err := d.domain(dom); err == nil {
		d.stop(got)
		delete(d.Domains, dom.Name)
	}
	return nil
}

func (d *Driver) GuestAddress(dom virt.Domain) (string, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("GuestAddress", dom.Name); err != nil {
		return "", "", err
	}
	if d.Address == "" {
		return "", "", fmt.Errorf("no guest address: no lease yet")
	}
	return d.Address, d.AddressSource, nil
}

func (d *Driver) AgentCommand(dom virt.Domain, command string, _ time.Duration) (string, error) {
	d.mu.Lock()
	err := d.call("AgentCommand", dom.Name)
	agent := d.Agent
	d.mu.Unlock()
	if err != nil {
		return "", err
	}
	if agent == nil {
		return "", fmt.Errorf("Guest agent is not responding: QEMU guest agent is not connected")
	}
	return agent(dom.Name, command)
}

func (d *Driver) SetUserPassword(dom virt.Domain, user, password string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("SetUserPassword", dom.Name); err != nil {
		return err
	}
	if d.Agent == nil {
		return fmt.Errorf("Guest agent is not responding: QEMU guest agent is not connected")
	}
	d.Passwords[dom.Name+"/"+user] = password
	return nil
}

func (d *Driver) AttachDevice(dom virt.Domain, deviceXML string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("AttachDevice", dom.Name); err != nil {
		return err
	}
	got, err := d.domain(dom)
	if err != nil {
		return err
	}
	got.Attached = append(got.Attached, deviceXML)
	return nil
}

func (d *Driver) ResizeDisk(dom virt.Domain, path string, bytes uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.call("ResizeDisk", dom.Name); err != nil {
		return err
	}
	for _, v := range d.Volumes {
		if v.Path == path {
			v.Spec.Capacity = bytes
			return nil
		}
	}
	return fmt.Errorf("resizing %s of %s: no such disk", path, dom.Name)
}
