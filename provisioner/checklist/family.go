package checklist

import (
	"bufio"
	"strings"
)

// detectFamily names the family of a Linux guest from its release files:
// /etc/os-release, else /etc/redhat-release, else /etc/lsb-release. It
// returns "" when none of them says.
func detectFamily(osRelease, redhatRelease, lsbRelease string) string {
	kv := func(text string) map[string]string {
		m := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
			if ok {
				m[k] = strings.Trim(v, `"'`)
			}
		}
		return m
	}
	var id, version string
	var like []string
	switch {
	case strings.TrimSpace(osRelease) != "":
		m := kv(osRelease)
		id, version, like = m["ID"], m["VERSION_ID"], strings.Fields(m["ID_LIKE"])
	case strings.TrimSpace(redhatRelease) != "":
		// "CentOS release 6.10 (Final)", "Red Hat Enterprise Linux Server release 7.9 (Maipo)"
		id = "rhel"
		if _, after, ok := strings.Cut(redhatRelease, "release "); ok && len(strings.Fields(after)) > 0 {
			version = strings.Fields(after)[0]
		}
	case strings.TrimSpace(lsbRelease) != "":
		m := kv(lsbRelease)
		id, version = strings.ToLower(m["DISTRIB_ID"]), m["DISTRIB_RELEASE"]
	default:
		return ""
	}
	major, _, _ := strings.Cut(version, ".")
	is := func(names ...string) bool {
		for _, n := range names {
			if id == n {
				return true
			}
			for _, l := range like {
				if l == n {
					return true
				}
			}
		}
		return false
	}
	switch {
	case id == "ubuntu":
		switch major {
		case "14":
			return "ubuntu1404"
		case "16":
			return "ubuntu1604"
		}
		return "ubuntu-netplan"
	case id == "debian":
		return "debian"
	case is("rhel", "centos", "fedora"):
		switch major {
		case "6":
			return "el6"
		case "7":
			return "el7"
		}
		return "el8"
	case is("ubuntu"):
		return "ubuntu-netplan"
	case is("debian"):
		return "debian"
	}
	return ""
}
