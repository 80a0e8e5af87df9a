package virt

import (
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		// What the parsed URI says: the scheme, the host and port to dial,
		// the SSH user, the path, and query options.
		scheme, hostname, port, user, path string
		query                              map[string]string
		// remote is the URI the daemon is asked to open once connected.
		remote string
	}{
		{uri: "qemu:///system", scheme: "qemu", path: "/system", remote: "qemu:///system"},
		{uri: "qemu:///session", scheme: "qemu", path: "/session", remote: "qemu:///session"},
		{uri: "qemu+unix:///system", scheme: "qemu+unix", path: "/system", remote: "qemu:///system"},
		{
			uri: "qemu:///system?socket=/x", scheme: "qemu", path: "/system",
			query: map[string]string{"socket": "/x"}, remote: "qemu:///system",
		},
		{
			uri:    "qemu+ssh://user@host:2222/system?keyfile=/home/u/.ssh/id_ed25519&known_hosts=/home/u/.ssh/known_hosts&no_verify=1",
			scheme: "qemu+ssh", hostname: "host", port: "2222", user: "user", path: "/system",
			query:  map[string]string{"keyfile": "/home/u/.ssh/id_ed25519", "known_hosts": "/home/u/.ssh/known_hosts", "no_verify": "1"},
			remote: "qemu:///system",
		},
		{uri: "qemu+ssh://kvm.example.com/session", scheme: "qemu+ssh", hostname: "kvm.example.com", path: "/session", remote: "qemu:///session"},
		{uri: "qemu+libssh://u@10.0.0.5/system?known_hosts_verify=auto", scheme: "qemu+libssh", hostname: "10.0.0.5", user: "u", path: "/system", query: map[string]string{"known_hosts_verify": "auto"}, remote: "qemu:///system"},
		{uri: "qemu+libssh2://u@h/system", scheme: "qemu+libssh2", hostname: "h", user: "u", path: "/system", remote: "qemu:///system"},
		{uri: "qemu+tcp://host/system", scheme: "qemu+tcp", hostname: "host", path: "/system", remote: "qemu:///system"},
		{uri: "qemu+tcp://[::1]:16509/system", scheme: "qemu+tcp", hostname: "::1", port: "16509", path: "/system", remote: "qemu:///system"},
		{
			uri: "qemu+tls://host/system?pkipath=/etc/pki/libvirt-client", scheme: "qemu+tls", hostname: "host", path: "/system",
			query: map[string]string{"pkipath": "/etc/pki/libvirt-client"}, remote: "qemu:///system",
		},
		// Without a transport and with a host, libvirt (and go-libvirt) use TLS.
		{uri: "qemu://kvm.example.com/system", scheme: "qemu", hostname: "kvm.example.com", path: "/system", remote: "qemu:///system"},
		// url.Parse lowercases the scheme.
		{uri: "QEMU+SSH://h/system", scheme: "qemu+ssh", hostname: "h", path: "/system", remote: "qemu:///system"},
		// name= overrides the URI the daemon opens.
		{uri: "qemu+tcp://h/system?name=qemu:///session", scheme: "qemu+tcp", hostname: "h", path: "/system", query: map[string]string{"name": "qemu:///session"}, remote: "qemu:///session"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			u, err := ParseURI(tc.uri)
			if err != nil {
				t.Fatalf("ParseURI: %v", err)
			}
			if u.Scheme != tc.scheme || u.Hostname() != tc.hostname || u.Port() != tc.port || u.Path != tc.path {
				t.Errorf("scheme %q host %q port %q path %q; want %q %q %q %q",
					u.Scheme, u.Hostname(), u.Port(), u.Path, tc.scheme, tc.hostname, tc.port, tc.path)
			}
			if u.User.Username() != tc.user {
				t.Errorf("user %q, want %q", u.User.Username(), tc.user)
			}
			q := u.Query()
			if len(q) != len(tc.query) {
				t.Errorf("query %v, want %v", q, tc.query)
			}
			for k, v := range tc.query {
				if q.Get(k) != v {
					t.Errorf("query %s = %q, want %q", k, q.Get(k), v)
				}
			}
			if r := string(libvirt.RemoteURI(u)); r != tc.remote {
				t.Errorf("remote URI %q, want %q", r, tc.remote)
			}
		})
	}
}

func TestParseURIErrors(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want []string // substrings of the error
	}{
		{"http://host/system", []string{`"http://host/system"`, "the driver must be qemu"}},
		{"https://kvm.example.com/system", []string{"the driver must be qemu"}},
		{"xen:///system", []string{"the driver must be qemu"}},
		{"lxc:///system", []string{"the driver must be qemu"}},
		{"", []string{"the driver must be qemu"}},
		{"/system", []string{"the driver must be qemu"}},
		{"qemu://host", []string{`"qemu://host"`, "the path must be /system or /session"}},
		{"qemu+ssh://user@host", []string{"the path must be /system or /session"}},
		{"qemu:///", []string{"the path must be /system or /session"}},
		{"qemu:///System", []string{"the path must be /system or /session"}},
		{"qemu:///system/", []string{"the path must be /system or /session"}},
		{"qemu:///embed?root=/tmp/x", []string{"the path must be /system or /session"}},
		{"qemu:system", []string{"the path must be /system or /session"}},
		{"qemu+foo:///system", []string{`transport "foo" is not one of unix, tcp, tls, ssh, libssh, libssh2`}},
		// ext would run a command of the URI's choosing; go-libvirt cannot.
		{"qemu+ext:///system?command=/bin/true", []string{`transport "ext"`}},
		{"qemu+ssh+tcp://h/system", []string{`transport "ssh+tcp"`}},
		{"qemu:///system\x7f", []string{"is not a URI"}},
		{"qemu://[::1/system", []string{"is not a URI"}},
		{"qemu+://h/system", []string{`transport ""`}},
		{"qemu+unix://h/system", []string{"the unix transport takes no host"}},
		{"qemu+tcp:///system", []string{"transport tcp needs a host"}},
		{"qemu+ssh:///system", []string{"transport ssh needs a host"}},
		{"qemu+ssh://u@h/system?sshauth=agent", []string{"sshauth needs the libssh transport"}},
		{"qemu+ssh://u@h/system?known_hosts_verify=auto", []string{"known_hosts_verify needs the libssh transport"}},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			u, err := ParseURI(tc.uri)
			if err == nil {
				t.Fatalf("ParseURI(%q) = %v, want an error", tc.uri, u)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestURIPlace(t *testing.T) {
	for _, tc := range []struct {
		uri           string
		local, onThis bool
		host          string
	}{
		{uri: "qemu:///system", local: true, onThis: true},
		{uri: "qemu:///session", local: true, onThis: true},
		{uri: "qemu+unix:///system", local: true, onThis: true},
		{uri: "qemu:///system?socket=/run/libvirt/virtqemud-sock", local: true, onThis: true},
		{uri: "qemu+ssh://user@host:2222/system?keyfile=/k", host: "host"},
		{uri: "qemu+tcp://host/system", host: "host"},
		{uri: "qemu+tls://host/system?pkipath=/pki", host: "host"},
		{uri: "qemu://kvm.example.com/system", host: "kvm.example.com"},
		// A remote transport aimed at this machine: not local (files go
		// through the storage pool), but on this machine (loopback works).
		{uri: "qemu+ssh://localhost/system", host: "localhost", onThis: true},
		{uri: "qemu://localhost/system", host: "localhost", onThis: true},
		{uri: "qemu+tcp://127.0.0.1/system", host: "127.0.0.1", onThis: true},
		{uri: "qemu+tcp://127.1.2.3:16509/system", host: "127.1.2.3", onThis: true},
		{uri: "qemu+ssh://u@[::1]:22/system", host: "::1", onThis: true},
		{uri: "qemu+tls://192.168.122.1/system", host: "192.168.122.1"},
		{uri: "qemu+ssh://u@[2001:db8::1]/system", host: "2001:db8::1"},
		// Invalid URIs are neither local nor have a host.
		{uri: "http://localhost/system"},
		{uri: "qemu://localhost"},
		{uri: "qemu+ext:///system"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			if got := IsLocal(tc.uri); got != tc.local {
				t.Errorf("IsLocal = %v, want %v", got, tc.local)
			}
			if got := Host(tc.uri); got != tc.host {
				t.Errorf("Host = %q, want %q", got, tc.host)
			}
			if got := OnThisMachine(tc.uri); got != tc.onThis {
				t.Errorf("OnThisMachine = %v, want %v", got, tc.onThis)
			}
		})
	}
}

// Connect refuses, before dialing anything, the URIs ParseURI refuses and
// option combinations go-libvirt refuses. Hosts are loopback, so a dial,
// if one happened, would not leave this machine.
func TestConnectFailsBeforeDialing(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want string
	}{
		{"http://127.0.0.1/system", "the driver must be qemu"},
		{"qemu+ext:///system", `transport "ext"`},
		{"qemu://127.0.0.1", "the path must be"},
		{"qemu:///system?mode=direct", "cannot connect in direct mode"},
		{"qemu:///system?mode=sideways", "invalid ssh mode"},
		{"qemu+tls://127.0.0.1/system?no_verify=maybe", "no_verify"},
		{"qemu+ssh://u@127.0.0.1/system?no_verify=yes", "no_verify"},
		{"qemu+libssh://u@127.0.0.1/system?no_verify=1", "use known_hosts_verify=ignore"},
		{"qemu+libssh://u@127.0.0.1/system?known_hosts_verify=sometimes", "invalid ssh known hosts verify method"},
		{"qemu+libssh2://u@127.0.0.1/system?sshauth=kerberos", "invalid ssh auth method"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			type result struct {
				l   *Conn
				err error
			}
			done := make(chan result, 1)
			go func() {
				l, err := Connect(tc.uri)
				done <- result{l, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("Connect(%q) is still running: it dials instead of failing early", tc.uri)
			}
			if r.err == nil {
				_ = r.l.Close()
				t.Fatalf("Connect(%q) succeeded, want an error", tc.uri)
			}
			if !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", r.err, tc.want)
			}
		})
	}
}

func TestLocalAddressTowardLoopback(t *testing.T) {
	addr, err := LocalAddressToward("127.0.0.1")
	if err != nil {
		t.Skipf("no loopback route here: %v", err)
	}
	if addr != "127.0.0.1" {
		t.Errorf("LocalAddressToward(127.0.0.1) = %q, want 127.0.0.1", addr)
	}
}

func TestDefaultURIAndDomainTypes(t *testing.T) {
	if !IsLocal(DefaultURI) {
		t.Errorf("DefaultURI %q is not local", DefaultURI)
	}
	for _, want := range []string{"kvm", "qemu", "auto"} {
		found := false
		for _, d := range DomainTypes {
			found = found || d == want
		}
		if !found {
			t.Errorf("DomainTypes %q lacks %q", DomainTypes, want)
		}
	}
}

// A password in libvirt_uri never shows: not in messages, not in the
// errors of a URI url.Parse refuses.
func TestURIPasswordHidden(t *testing.T) {
	for _, tc := range []struct{ uri, shown, pw string }{
		{"qemu+ssh://admin:Zq9-pw@kvm.example/system", "qemu+ssh://admin:xxxxx@kvm.example/system", "Zq9-pw"},
		{"qemu+ssh://admin:Zq9-pw@kvm.example:bad/system", "qemu+ssh://admin:xxxxx@kvm.example:bad/system", "Zq9-pw"},
		{"qemu:///system", "qemu:///system", ""},
	} {
		if got := Redact(tc.uri); got != tc.shown {
			t.Errorf("Redact(%q) = %q, want %q", tc.uri, got, tc.shown)
		}
		if got := URIPassword(tc.uri); got != tc.pw {
			t.Errorf("URIPassword(%q) = %q, want %q", tc.uri, got, tc.pw)
		}
	}
	_, err := ParseURI("qemu+ssh://admin:Zq9-pw@kvm.example:bad/system")
	if err == nil || strings.Contains(err.Error(), "Zq9") {
		t.Errorf("ParseURI: %v", err)
	}
	_, err = ParseURI("xen+ssh://admin:Zq9-pw@kvm.example/system")
	if err == nil || strings.Contains(err.Error(), "Zq9") {
		t.Errorf("ParseURI: %v", err)
	}
}
