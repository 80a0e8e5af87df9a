package virt

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
)

// Owned is what one build made on a libvirt host: its domain, defined
// first and marked as the plugin's, and the volumes the mark lists. The
// builder and verify create every domain and volume through it and remove
// only what it lists, so that nothing they did not make is ever touched,
// whatever its name and whatever -force says.
type Owned struct {
	d Driver
	// machine is the domain's last definition; its Mark lists the volumes.
	machine Machine
	dom     Domain
}

// Claim takes the domain name for one build. A domain of that name that
// the plugin did not make stops the build, with or without force; one left
// by an earlier, interrupted build stops it too, unless force, which
// removes it and the volumes its mark lists. Claim then defines a
// placeholder domain of that name, marked, which the build's Define
// replaces: from then on a build killed at any point leaves a leftover
// the next one recognises.
func Claim(d Driver, name, domainType, component string, force bool, say func(string)) (*Owned, error) {
	found, err := d.Mark(name)
	if err != nil {
		return nil, err
	}
	if found != nil {
		if err := removeLeftover(d, name, found, force, say); err != nil {
			return nil, err
		}
	}
	o := &Owned{d: d, machine: Machine{Name: name, DomainType: domainType, MemoryMiB: 64, CPUs: 1, Mark: newMark(component)}}
	if err := o.define(); err != nil {
		return nil, err
	}
	return o, nil
}

func removeLeftover(d Driver, name string, found *Found, force bool, say func(string)) error {
	m := found.Mark
	switch {
	case m == nil:
		return fmt.Errorf("a domain named %s exists on %s, and this plugin did not create it: it is left alone, with or without -force. Choose another vm_name, or remove that domain yourself", name, Redact(d.URI()))
	case m.heldNow():
		return fmt.Errorf("domain %s belongs to a build that is running now (%s): it is left alone, with or without -force. Wait for that build, or choose another vm_name", name, m)
	case !force:
		return fmt.Errorf("domain %s is left over from an interrupted build (%s), with %s: run with -force to remove them, or remove them yourself (virsh destroy %s; virsh undefine --nvram %s; virsh vol-delete --pool POOL NAME)", name, m, m.volumeList(), name, name)
	}
	say(fmt.Sprintf("-force: removing domain %s and its %s, left over from an interrupted build (%s)", name, m.volumeList(), m))
	return release(d, found.Domain, m)
}

// Domain is the claimed domain.
func (o *Owned) Domain() Domain { return o.dom }

// Driver is the driver the domain was claimed on.
func (o *Owned) Driver() Driver { return o.d }

// Define defines m in place of the claimed domain, keeping its UUID and
// its mark.
func (o *Owned) Define(m Machine) (Domain, error) {
	if m.Name != o.machine.Name {
		return Domain{}, fmt.Errorf("defining domain %s: this build claimed the name %s", m.Name, o.machine.Name)
	}
	m.UUID, m.Mark = o.machine.UUID, o.machine.Mark
	prev := o.machine
	o.machine = m
	if err := o.define(); err != nil {
		o.machine = prev
		return Domain{}, err
	}
	return o.dom, nil
}

func (o *Owned) define() error {
	dom, err := o.d.Define(o.machine)
	if err != nil {
		return err
	}
	o.dom, o.machine.UUID = dom, dom.UUID
	return nil
}

// CreateVolume creates a volume in pool, listed in the domain's mark
// before it exists. A volume of that name that is there already was made
// by someone else (a leftover of this plugin's went with its domain): it
// stops the build and is left alone.
func (o *Owned) CreateVolume(pool string, spec VolumeSpec) (Volume, error) {
	exists, err := o.d.VolumeExists(pool, spec.Name)
	if err != nil {
		return Volume{}, err
	}
	if exists {
		return Volume{}, fmt.Errorf("volume %s exists in pool %s, and this build did not create it: it is left alone, with or without -force. Choose another vm_name, or delete that volume yourself (virsh vol-delete --pool %s %s)", spec.Name, pool, pool, spec.Name)
	}
	mark := o.machine.Mark
	mark.Volumes = append(mark.Volumes, MarkVolume{Pool: pool, Name: spec.Name})
	if err := o.define(); err != nil {
		mark.unlist(pool, spec.Name)
		return Volume{}, err
	}
	vol, err := o.d.CreateVolume(pool, spec)
	if err != nil {
		mark.unlist(pool, spec.Name)
		_ = o.define()
		return Volume{}, err
	}
	return vol, nil
}

// DeleteVolume deletes a volume this build created, and takes it off the
// mark. Any other volume is left alone, with an error.
func (o *Owned) DeleteVolume(pool, name string) error {
	mark := o.machine.Mark
	if !mark.lists(pool, name) {
		return fmt.Errorf("volume %s of pool %s: this build did not create it; left alone", name, pool)
	}
	if err := o.d.DeleteVolume(pool, name); err != nil {
		return err
	}
	mark.unlist(pool, name)
	return o.define()
}

// Release forces the domain off, deletes the volumes its mark still lists
// and undefines it: everything the build made, and only that.
func (o *Owned) Release() error {
	return release(o.d, o.dom, o.machine.Mark)
}

// release removes a marked domain and its listed volumes. The domain goes
// last, so that a release cut short leaves a leftover that still lists
// what remains.
func release(d Driver, dom Domain, m *Mark) error {
	if err := d.Destroy(dom); err != nil {
		return err
	}
	var errs []error
	// Newest first: an overlay goes before the copy it is backed by.
	for _, v := range slices.Backward(m.Volumes) {
		if err := d.DeleteVolume(v.Pool, v.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return d.Remove(dom)
}

// heldNow reports whether the process that made the mark runs now on this
// host: a build in progress, not a leftover.
func (m *Mark) heldNow() bool {
	host, _ := os.Hostname()
	return m.Host == host && m.PID > 0 && alive(m.PID)
}

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	if runtime.GOOS == "windows" {
		return true // FindProcess opened it
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
