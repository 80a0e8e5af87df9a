package testenv

import (
	"strings"
	"testing"

	"github.com/digitalocean/go-libvirt"
)

// AssertNoLeftovers fails the test if a domain or a volume of the default
// pool whose name starts with name is left behind.
func AssertNoLeftovers(t *testing.T, l *libvirt.Libvirt, name string) {
	t.Helper()
	doms, _, err := l.ConnectListAllDomains(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	left := 0
	for _, d := range doms {
		if strings.HasPrefix(d.Name, name) {
			t.Errorf("domain %s is left behind", d.Name)
			left++
		}
	}
	pool, err := l.StoragePoolLookupByName("default")
	if err == nil {
		err = l.StoragePoolRefresh(pool, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	vols, _, err := l.StoragePoolListAllVolumes(pool, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	leftVols := 0
	for _, v := range vols {
		if strings.HasPrefix(v.Name, name) {
			t.Errorf("volume %s is left behind", v.Name)
			leftVols++
		}
	}
	t.Logf("leftovers of %s: %d domains, %d volumes", name, left, leftVols)
}
