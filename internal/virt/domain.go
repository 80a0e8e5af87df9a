package virt

import (
	"fmt"

	"github.com/digitalocean/go-libvirt"
)

// Define defines m as a persistent domain, not started.
func Define(l *libvirt.Libvirt, m Machine) (libvirt.Domain, error) {
	x, err := m.XML()
	if err != nil {
		return libvirt.Domain{}, err
	}
	dom, err := l.DomainDefineXML(x)
	if err != nil {
		return libvirt.Domain{}, fmt.Errorf("defining domain %s: %w", m.Name, err)
	}
	return dom, nil
}

// Remove destroys the named domain if it runs and undefines it (with its
// NVRAM). A domain that does not exist is not an error: cleanup paths call
// this whatever state the build reached.
func Remove(l *libvirt.Libvirt, name string) error {
	dom, err := l.DomainLookupByName(name)
	if libvirt.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("looking up domain %s: %w", name, err)
	}
	if state, _, err := l.DomainGetState(dom, 0); err == nil && libvirt.DomainState(state) != libvirt.DomainShutoff {
		if err := l.DomainDestroy(dom); err != nil && !libvirt.IsNotFound(err) {
			return fmt.Errorf("destroying domain %s: %w", name, err)
		}
	}
	if err := l.DomainUndefineFlags(dom, libvirt.DomainUndefineNvram); err != nil && !libvirt.IsNotFound(err) {
		return fmt.Errorf("undefining domain %s: %w", name, err)
	}
	return nil
}
