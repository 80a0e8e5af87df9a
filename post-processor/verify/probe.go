package verify

import (
	"context"
	_ "embed"
	"strconv"
	"strings"
)

//go:embed probe.sh
var probeScript string

// facts are the probe's key=value lines; a key may repeat (nic, mac_pin).
type facts map[string][]string

// probe runs probe.sh in the instance.
func probe(ctx context.Context, sh shell) (facts, error) {
	out, err := sh.run(ctx, probeScript)
	if err != nil {
		return nil, err
	}
	return parseFacts(out), nil
}

func parseFacts(out string) facts {
	f := facts{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" && !strings.ContainsAny(k, " \t") {
			f[k] = append(f[k], strings.TrimSpace(v))
		}
	}
	return f
}

// get returns the key's last value, "" when absent.
func (f facts) get(key string) string {
	if v := f[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

func (f facts) uint(key string) uint64 {
	n, _ := strconv.ParseUint(f.get(key), 10, 64)
	return n
}

// nic is one of the instance's network interfaces.
type nic struct {
	name, mac string
	addrs     []string
}

func (f facts) nics() []nic {
	var nics []nic
	for _, line := range f["nic"] {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		nics = append(nics, nic{name: fs[0], mac: strings.ToLower(fs[1]), addrs: fs[2:]})
	}
	return nics
}

func (f facts) nicByMAC(mac string) (nic, bool) {
	for _, n := range f.nics() {
		if n.mac == strings.ToLower(mac) {
			return n, true
		}
	}
	return nic{}, false
}

// rhelLike: the family whose NICs come up while running (NetworkManager,
// or net.hotplug on EL6); Debian and Ubuntu promise it after a reboot.
func (f facts) rhelLike() bool {
	id := f.get("os_id") + " " + f.get("os_like")
	for _, w := range []string{"rhel", "centos", "fedora", "rocky", "almalinux", "ol"} {
		for _, x := range strings.Fields(id) {
			if x == w {
				return true
			}
		}
	}
	return false
}
