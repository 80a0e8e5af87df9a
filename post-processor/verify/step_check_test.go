package verify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// testWaits are defaultWaits for a guest on loopback that answers at once.
var testWaits = waits{
	key: 2 * time.Second, password: 2 * time.Second, agent: time.Second, nic: 2 * time.Second, web: time.Second,
	promptGrace: 200 * time.Millisecond, poll: 20 * time.Millisecond, attempt: 2 * time.Second,
}

// prepared is a verify configuration for the unit tests.
func prepared(t *testing.T, raw map[string]interface{}) *Config {
	t.Helper()
	var c Config
	base := map[string]interface{}{"domain_type": "qemu", "vm_name": "unit-verify", "boot_timeout": "20s", "cloud_init_timeout": "5s", "report_file": filepath.Join(t.TempDir(), "verify.json")}
	for k, v := range raw {
		base[k] = v
	}
	if err := c.prepare(base); err != nil {
		t.Fatal(err)
	}
	return &c
}

// checkRun runs stepCheck on a fake guest and returns the report.
func checkRun(t *testing.T, g *fakeGuest, raw map[string]interface{}) ([]report.Result, *uitest.UI) {
	t.Helper()
	c := prepared(t, raw)
	in, err := newInstance(c)
	if err != nil {
		t.Fatal(err)
	}
	in.diskBytes, in.resized = 4<<30, 5<<30
	d := fake.New(t.TempDir())
	vol, err := d.CreateVolume("default", virt.VolumeSpec{Name: "unit-verify.qcow2", Format: "qcow2", Capacity: in.diskBytes})
	if err != nil {
		t.Fatal(err)
	}
	dom, err := d.Define(virt.Machine{Name: "unit-verify", DomainType: "qemu", MemoryMiB: 512})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Start(context.Background(), dom, new(strings.Builder)); err != nil {
		t.Fatal(err)
	}
	g.t, g.in, g.d, g.dom, g.diskPath = t, in, d, "unit-verify", vol.Path
	g.start()
	console := filepath.Join(t.TempDir(), "console.log")
	log := "[    0.000000] Linux version 6.1.0-50-amd64 (debian-kernel@lists.debian.org)\n"
	if g.cloudInit {
		log += "[   20.1] cloud-init[412]: Cloud-init v. 22.4.2 running 'init' at Thu, 03 Dec 2026\n"
	}
	log += "\ndebian12-fixture login: "
	if err := os.WriteFile(console, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}

	ui := uitest.New()
	state := new(multistep.BasicStateBag)
	state.Put("ui", ui)
	state.Put("driver", virt.Driver(d))
	state.Put("domain", dom)
	state.Put("instance", in)
	state.Put("guest", &guest{host: "127.0.0.1", sshPort: g.sshPort, httpPort: g.httpPort})
	state.Put("disk", vol)
	state.Put("console_log", console)
	if got := (&stepCheck{config: c, waits: testWaits}).Run(context.Background(), state); got != multistep.ActionContinue {
		t.Fatalf("stepCheck: %v (%v)\n%s", got, state.Get("error"), ui.Output())
	}
	return state.Get("results").([]report.Result), ui
}

func failed(rs []report.Result) []string {
	var ids []string
	for _, r := range rs {
		if r.Status == report.Fail {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func evidence(rs []report.Result, id string) string {
	for _, r := range rs {
		if r.ID == id {
			return r.Evidence
		}
	}
	return ""
}

// Each fault of a broken image fails its items and nothing else; faults
// that do not hide each other show together in one boot. (The real broken
// images of test/verify prove the probe on a real guest; these prove the
// judgement for every combination, in a second.)
func TestChecks(t *testing.T) {
	good := func() *fakeGuest { return &fakeGuest{cloudInit: true, agent: true, web: true} }
	for _, tc := range []struct {
		name  string
		guest func() *fakeGuest
		want  []string
		// Evidence the report must hold, by item.
		evidence map[string]string
	}{
		{
			name: "a good image", guest: good,
			evidence: map[string]string{
				"L03": "instance-id", "L06": "logged in with the metadata's key", "L07": "guest-set-user-password set root's password, and SSH accepted it",
				"L10": "disk vda 4.00 GiB", "L11": "added while running", "L13": "Server: Apache/2.4.68", "L17": "disk vda 5.00 GiB",
				"L12": "Linux version 6.1.0", "L14": "SELinux is not installed",
			},
		},
		{name: "swap", guest: func() *fakeGuest { g := good(); g.swap = true; return g }, want: []string{"L02"}, evidence: map[string]string{"L02": "active swap: /swapfile"}},
		{
			name:  "swap, a pinned MAC and no guest agent, in one boot",
			guest: func() *fakeGuest { g := good(); g.swap, g.macPin, g.agent = true, "52:54:00:aa:bb:cc", false; return g },
			want:  []string{"L02", "L07", "L16"},
			evidence: map[string]string{
				"L07": "guest-ping on org.qemu.guest_agent.0 got no answer", "L16": "70-persistent-net.rules: 52:54:00:aa:bb:cc",
			},
		},
		{
			name:  "no cloud-init: no sshd either, the agent is the way in",
			guest: func() *fakeGuest { g := good(); g.cloudInit = false; return g },
			want:  []string{"L03", "L04", "L05", "L06", "L09", "L10", "L17"},
			evidence: map[string]string{
				"L03": "cloud-init is not installed", "L04": "the console has shown a login prompt",
				"L07": "read through guest-exec", "L10": "the root partition did not grow", "L11": "added while running",
			},
		},
		{name: "no web server", guest: func() *fakeGuest { g := good(); g.web = false; return g }, want: []string{"L13"}},
		{
			name:  "nothing lets the check in",
			guest: func() *fakeGuest { return &fakeGuest{web: true} },
			want:  []string{"L01", "L02", "L03", "L04", "L05", "L06", "L07", "L08", "L09", "L10", "L11", "L13", "L14", "L15", "L16", "L17"},
			evidence: map[string]string{
				"L01": "nothing let the check in", "L12": "Linux version",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, ui := checkRun(t, tc.guest(), nil)
			if got := failed(rs); !slices.Equal(got, tc.want) {
				t.Errorf("failed %v, want %v\n%s", got, tc.want, report.Table(rs))
			}
			if len(rs) != 18 || evidence(rs, "L18") == "" {
				t.Errorf("%d items; L18 %q", len(rs), evidence(rs, "L18"))
			}
			for id, want := range tc.evidence {
				if !strings.Contains(evidence(rs, id), want) {
					t.Errorf("%s: %q, want it to say %q", id, evidence(rs, id), want)
				}
			}
			if t.Failed() {
				t.Logf("what the user saw:\n%s", ui.Output())
			}
		})
	}
}

// skip_items are reported as not applicable: an image without a web
// server passes with L13 skipped.
func TestChecksSkipItems(t *testing.T) {
	rs, _ := checkRun(t, &fakeGuest{cloudInit: true, agent: true}, map[string]interface{}{"skip_items": []string{"L13"}})
	if got := failed(rs); len(got) != 0 {
		t.Errorf("failed %v", got)
	}
	if !strings.Contains(evidence(rs, "L13"), "skipped (skip_items)") {
		t.Errorf("L13: %q", evidence(rs, "L13"))
	}
}
