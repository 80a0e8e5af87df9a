package verify

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"golang.org/x/crypto/ssh"
)

// instance is what Nova would give the instance: an id, a name, a key pair,
// a root password in user-data, the MACs of its NICs.
type instance struct {
	uuid, hostname     string
	signer             ssh.Signer
	authorizedKey      string
	password           string // set by user-data (L04)
	agentPassword      string // set through the guest agent (L07)
	mac, secondMAC     string
	user               string
	datasource         string
	diskBytes, resized uint64 // the disk's size at boot and after the resize (L17)
}

func newInstance(c *Config) (*instance, error) {
	// RSA, which every OpenSSH since CentOS 6's 5.3 accepts; the client
	// signs with rsa-sha2-* where the server offers it.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, err
	}
	in := &instance{
		uuid:          uuid(),
		hostname:      c.Hostname,
		signer:        signer,
		authorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " cloudimage-verify",
		password:      secret(),
		agentPassword: secret(),
		mac:           mac(),
		secondMAC:     mac(),
		user:          c.SSHUsername,
		datasource:    c.Datasource,
	}
	// Nothing shows them: not the UI, not the plugin's log.
	packersdk.LogSecretFilter.Set(in.password, in.agentPassword)
	return in, nil
}

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// secret is a password of 20 letters and digits: nothing a shell, YAML or
// chpasswd would read specially.
func secret() string {
	const chars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

// mac is a random address in QEMU's 52:54:00 range, so it is never the
// build's.
func mac() string {
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}

// userData sets the account's password and allows password logins (L04,
// L05): what a user's #cloud-config asks of an image.
func (in *instance) userData() string {
	return fmt.Sprintf(`#cloud-config
ssh_pwauth: true
disable_root: false
chpasswd:
  expire: false
  list: |
    %s:%s
`, in.user, in.password)
}

// files returns the config drive's files, as Nova writes them (the
// openstack/latest tree, also under a dated version for old cloud-init), or
// NoCloud's.
func (in *instance) files() (map[string]string, string) {
	if in.datasource == "nocloud" {
		meta := fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\npublic-keys:\n  - %s\n", in.uuid, in.hostname, in.authorizedKey)
		return map[string]string{"meta-data": meta, "user-data": in.userData()}, "cidata"
	}
	meta, _ := json.Marshal(map[string]any{
		"uuid": in.uuid, "name": in.hostname, "hostname": in.hostname,
		"launch_index": 0, "availability_zone": "nova", "project_id": "cloudimage-verify",
		"public_keys": map[string]string{"cloudimage-verify": in.authorizedKey},
		"keys":        []map[string]string{{"name": "cloudimage-verify", "type": "ssh", "data": in.authorizedKey}},
		"meta":        map[string]string{},
	})
	network, _ := json.Marshal(map[string]any{
		"links":    []map[string]any{{"id": "tap0", "type": "phy", "ethernet_mac_address": in.mac, "mtu": 1500, "vif_id": in.uuid}},
		"networks": []map[string]any{{"id": "network0", "type": "ipv4_dhcp", "link": "tap0", "network_id": in.uuid}},
		"services": []any{},
	})
	files := map[string]string{}
	for _, v := range []string{"latest", "2015-10-15"} {
		files["openstack/"+v+"/meta_data.json"] = string(meta)
		files["openstack/"+v+"/user_data"] = in.userData()
		files["openstack/"+v+"/network_data.json"] = string(network)
	}
	return files, "config-2"
}
