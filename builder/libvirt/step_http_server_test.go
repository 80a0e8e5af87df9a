package libvirt

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// {{ .HTTPIP }} is where the guest reaches Packer's HTTP server, and the
// server listens only there: with user-mode networking on this machine,
// QEMU's 10.0.2.2 (the host's loopback), on a libvirt network its bridge
// address.
func TestStepHTTPServer(t *testing.T) {
	for _, tc := range []struct {
		name              string
		overrides         map[string]interface{}
		networks          map[string]string
		wantIP, wantFetch string
	}{
		{name: "user networking, local", wantIP: "10.0.2.2", wantFetch: "127.0.0.1"},
		{name: "user networking, loopback TCP", overrides: map[string]interface{}{"libvirt_uri": "qemu+tcp://127.0.0.1/system"}, wantIP: "10.0.2.2", wantFetch: "127.0.0.1"},
		{
			name: "libvirt network", overrides: map[string]interface{}{"network_mode": "network", "network": "builds"},
			// The test may only listen on loopback: the fake network's
			// bridge is 127.0.0.1.
			networks: map[string]string{"builds": "127.0.0.1"}, wantIP: "127.0.0.1", wantFetch: "127.0.0.1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := shareable(t)
			fileWith(t, dir, "ks.cfg", "rootpw secret\n")
			c := stepConfig(t, merge(map[string]interface{}{"http_directory": dir, "http_port_min": 20000, "http_port_max": 20999}, tc.overrides))
			st := newStepTest(t, c)
			for k, v := range tc.networks {
				st.d.NetworkAddresses[k] = v
			}
			s := &stepHTTPServer{config: c}
			st.run(s, multistep.ActionContinue)
			defer s.Cleanup(st.state)
			if got := st.state.Get("http_ip"); got != tc.wantIP {
				t.Errorf("HTTPIP %v, want %s", got, tc.wantIP)
			}
			if got := st.state.Get("generated_data").(map[string]interface{})["HTTPIP"]; got != tc.wantIP {
				t.Errorf("${build.HTTPIP} %v, want %s", got, tc.wantIP)
			}
			resp, err := http.Get(fmt.Sprintf("http://%s:%d/ks.cfg", tc.wantFetch, st.state.Get("http_port")))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "rootpw secret\n" {
				t.Errorf("GET /ks.cfg: %s %q", resp.Status, body)
			}
		})
	}
}

// A libvirt network that does not exist stops the build, naming it.
func TestStepHTTPServerUnknownNetwork(t *testing.T) {
	c := stepConfig(t, map[string]interface{}{"network_mode": "network", "network": "nosuch", "http_content": map[string]string{"/a": "b"}})
	st := newStepTest(t, c)
	st.run(&stepHTTPServer{config: c}, multistep.ActionHalt)
	if !st.ui.ErrorSaid(`libvirt network "nosuch"`) {
		t.Errorf("the user saw %q", st.ui.Errors())
	}
}

// {{ .HTTPIP }} and the listening address for each network mode: never all
// interfaces unless http_bind_address says 0.0.0.0, and never 0.0.0.0 as
// the address the guest is told. (The test's bridge is lo: it may only
// listen on, and aim at, loopback.)
func TestHTTPAddress(t *testing.T) {
	for _, tc := range []struct {
		name             string
		overrides        map[string]interface{}
		wantIP, wantBind string
		wantErr          string
	}{
		{name: "user networking, local", wantIP: "10.0.2.2", wantBind: "127.0.0.1"},
		{name: "bridge", overrides: map[string]interface{}{"network_mode": "bridge", "network_bridge": "lo"}, wantIP: "127.0.0.1", wantBind: "127.0.0.1"},
		{name: "bridge without an address", overrides: map[string]interface{}{"network_mode": "bridge", "network_bridge": "br-nosuch0"}, wantErr: "network_bridge: interface br-nosuch0"},
		{name: "bridge, bound to all", overrides: map[string]interface{}{"network_mode": "bridge", "network_bridge": "lo", "http_bind_address": "0.0.0.0"}, wantIP: "127.0.0.1", wantBind: "0.0.0.0"},
		{name: "bridge, bound to one", overrides: map[string]interface{}{"network_mode": "bridge", "network_bridge": "br-nosuch0", "http_bind_address": "192.0.2.1"}, wantIP: "192.0.2.1", wantBind: "192.0.2.1"},
		{name: "http_interface", overrides: map[string]interface{}{"http_interface": "lo"}, wantIP: "127.0.0.1", wantBind: "127.0.0.1"},
		{name: "network on a remote host", overrides: map[string]interface{}{"network_mode": "network", "network": "builds", "libvirt_uri": "qemu+tcp://127.0.0.1/system"}, wantIP: "127.0.0.1", wantBind: "127.0.0.1"},
		{name: "bridge on a remote host", overrides: map[string]interface{}{"network_mode": "bridge", "network_bridge": "br0", "libvirt_uri": "qemu+tcp://127.0.0.1/system"}, wantIP: "127.0.0.1", wantBind: "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := stepConfig(t, merge(map[string]interface{}{"http_content": map[string]string{"/ks.cfg": "x"}}, tc.overrides))
			st := newStepTest(t, c)
			ip, bind, err := httpAddress(c, st.d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || ip != tc.wantIP || bind != tc.wantBind {
				t.Errorf("HTTPIP %q, bind %q, %v; want %q, %q", ip, bind, err, tc.wantIP, tc.wantBind)
			}
		})
	}
}
