// Package virt holds what the builder and the verify post-processor share
// about libvirt: option values, URI checks and the connection.
package virt

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/digitalocean/go-libvirt"
)

// DefaultURI is the libvirt URI used when none is configured.
const DefaultURI = "qemu:///system"

// DomainTypes are the values domain_type accepts: kvm, qemu (software
// emulation), or auto (kvm where the host can run it).
var DomainTypes = []string{"kvm", "qemu", "auto"}

// transports are the ones go-libvirt dials without cgo.
var transports = []string{"", "unix", "tcp", "tls", "ssh", "libssh", "libssh2"}

// ParseURI checks that uri is a QEMU driver URI that go-libvirt can dial:
// qemu[+unix|+tcp|+tls|+ssh|+libssh|+libssh2]://[user@host[:port]]/system or
// /session, with libvirt's query options.
func ParseURI(uri string) (*url.URL, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URI: %w", uri, err)
	}
	driver, transport, _ := strings.Cut(u.Scheme, "+")
	if driver != "qemu" {
		return nil, fmt.Errorf("%q: the driver must be qemu, as in qemu:///system or qemu+ssh://user@host/system", uri)
	}
	if !slices.Contains(transports, transport) {
		return nil, fmt.Errorf("%q: transport %q is not one of unix, tcp, tls, ssh, libssh, libssh2", uri, transport)
	}
	if u.Path != "/system" && u.Path != "/session" {
		return nil, fmt.Errorf("%q: the path must be /system or /session", uri)
	}
	return u, nil
}

// Connect opens a libvirt connection for uri.
func Connect(uri string) (*libvirt.Libvirt, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	l, err := libvirt.ConnectToURI(u)
	if err != nil {
		return nil, fmt.Errorf("connecting to libvirt at %s: %w", uri, err)
	}
	return l, nil
}

// IsLocal reports whether uri names the libvirt daemon of this machine,
// whose files the plugin can use where they are.
func IsLocal(uri string) bool {
	u, err := ParseURI(uri)
	if err != nil {
		return false
	}
	_, transport, _ := strings.Cut(u.Scheme, "+")
	return u.Host == "" && (transport == "" || transport == "unix")
}
