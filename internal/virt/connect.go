// Package virt holds what the builder and the verify post-processor share
// about libvirt: option values, URI checks and the connection.
package virt

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
		// url.Error holds the URI as it is, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%q is not a URI: %w", Redact(uri), err)
	}
	uri = u.Redacted()
	driver, transport, plus := strings.Cut(u.Scheme, "+")
	if driver != "qemu" {
		return nil, fmt.Errorf("%q: the driver must be qemu, as in qemu:///system or qemu+ssh://user@host/system", uri)
	}
	if !slices.Contains(transports, transport) || (plus && transport == "") {
		return nil, fmt.Errorf("%q: transport %q is not one of unix, tcp, tls, ssh, libssh, libssh2", uri, transport)
	}
	if u.Path != "/system" && u.Path != "/session" {
		return nil, fmt.Errorf("%q: the path must be /system or /session", uri)
	}
	local := transport == "" || transport == "unix"
	if local && u.Host != "" && transport == "unix" {
		return nil, fmt.Errorf("%q: the unix transport takes no host; use qemu+ssh://%s/... for a remote host", uri, u.Host)
	}
	if !local && u.Hostname() == "" {
		return nil, fmt.Errorf("%q: transport %s needs a host, as in qemu+%s://host%s", uri, transport, transport, u.Path)
	}
	if err := checkOptions(u, transport); err != nil {
		return nil, fmt.Errorf("%q: %w", uri, err)
	}
	return u, nil
}

// checkOptions checks the query options the plugin reads, as go-libvirt
// did when it read them.
func checkOptions(u *url.URL, transport string) error {
	q := u.Query()
	if transport == "ssh" {
		for _, opt := range []string{"known_hosts_verify", "sshauth"} {
			if q.Has(opt) {
				return fmt.Errorf("option %s needs the libssh transport (qemu+libssh://)", opt)
			}
		}
	}
	switch strings.ToLower(q.Get("mode")) {
	case "", "legacy", "auto":
	case "direct":
		return errors.New("mode=direct: cannot connect in direct mode; use mode=legacy or leave it out")
	default:
		return fmt.Errorf("mode=%s: invalid ssh mode; use legacy or auto", q.Get("mode"))
	}
	if nv := q.Get("no_verify"); nv != "" {
		if strings.HasPrefix(transport, "libssh") {
			return errors.New(`"no_verify" option invalid with the libssh transport, use known_hosts_verify=ignore instead`)
		}
		if _, err := strconv.Atoi(nv); err != nil {
			return fmt.Errorf("no_verify=%s: invalid value, want 0 or 1", nv)
		}
	}
	if v := q.Get("known_hosts_verify"); v != "" && !slices.Contains([]string{"normal", "auto", "ignore"}, v) {
		return fmt.Errorf("known_hosts_verify=%s: invalid ssh known hosts verify method, want normal, auto or ignore", v)
	}
	if a := q.Get("sshauth"); a != "" {
		for _, m := range strings.Split(strings.ToLower(a), ",") {
			if !slices.Contains([]string{"agent", "privkey", "password", "keyboard-interactive"}, m) {
				return fmt.Errorf("sshauth=%s: invalid ssh auth method %q, want agent, privkey, password or keyboard-interactive", a, m)
			}
		}
	}
	return nil
}

// userinfo is the user and password part of a URI that url.Parse refused.
var userinfo = regexp.MustCompile(`(://[^/@:]*):[^/@]*@`)

// Redact is uri as messages may show it: a password in it replaced, as
// url.URL.Redacted does; uri holds no other secret.
func Redact(uri string) string {
	if u, err := url.Parse(uri); err == nil {
		return u.Redacted()
	}
	return userinfo.ReplaceAllString(uri, "$1:xxxxx@")
}

// URIPassword is the password in uri, "" when none: for Packer's secret
// filter, so that the plugin's logs never show it either.
func URIPassword(uri string) string {
	if u, err := url.Parse(uri); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		return pw
	}
	if m := userinfo.FindStringSubmatch(uri); m != nil {
		return strings.TrimSuffix(strings.TrimPrefix(m[0], m[1]+":"), "@")
	}
	return ""
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

// Host returns the libvirt host's name or address from uri ("" for a
// local URI).
func Host(uri string) string {
	u, err := ParseURI(uri)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// OnThisMachine reports whether uri's daemon runs on this machine: a local
// URI, or a remote transport aimed at loopback. Guests of such a daemon
// reach this machine's loopback through user-mode networking's 10.0.2.2.
func OnThisMachine(uri string) bool {
	if IsLocal(uri) {
		return true
	}
	h := Host(uri)
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// LocalAddressToward returns this machine's address on the route to host:
// where a guest on that host can reach a server of ours. It sends nothing.
func LocalAddressToward(host string) (string, error) {
	c, err := net.Dial("udp", net.JoinHostPort(host, "9"))
	if err != nil {
		return "", fmt.Errorf("no route to the libvirt host %s: %w", host, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}
