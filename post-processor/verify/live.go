package verify

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// retry calls f every interval until it succeeds or within has passed,
// and returns its last error.
func retry(ctx context.Context, within, interval time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(interval):
		}
	}
}

// agentPing asks the guest agent for guest-ping (L07).
func agentPing(d virt.Driver, dom virt.Domain) error {
	_, err := d.AgentCommand(dom, `{"execute":"guest-ping"}`, 10*time.Second)
	return err
}

// attachNIC hot-plugs a second NIC (L11) of the first one's kind. On
// user-mode networking it gets a subnet of its own, so that the SSH
// session's replies keep to the first NIC.
func attachNIC(d virt.Driver, dom virt.Domain, c *Config, mac string) error {
	iface := libvirtxml.DomainInterface{
		MAC:   &libvirtxml.DomainInterfaceMAC{Address: mac},
		Model: &libvirtxml.DomainInterfaceModel{Type: c.NetDevice},
	}
	switch c.NetworkMode {
	case virt.NetworkUser:
		iface.Source = &libvirtxml.DomainInterfaceSource{User: &libvirtxml.DomainInterfaceSourceUser{}}
		iface.IP = []libvirtxml.DomainInterfaceIP{{Address: "10.0.3.0", Family: "ipv4", Prefix: 24}}
	case virt.NetworkLibvirt:
		iface.Source = &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: c.Network}}
	case virt.NetworkBridge:
		iface.Source = &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: c.NetworkBridge}}
	}
	x, err := iface.Marshal()
	if err != nil {
		return err
	}
	if err := d.AttachDevice(dom, x); err != nil {
		return fmt.Errorf("attaching a second NIC: %w", err)
	}
	return nil
}

// webAnswer asks the guest's web server for / (L13) and describes the
// answer.
func webAnswer(ctx context.Context, g *guest, guestPort int) (string, error) {
	url := "http://" + g.addr(g.httpPort) + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return fmt.Sprintf("GET %s (the guest's port %d): %s, Server: %s", url, guestPort, resp.Status, or(resp.Header.Get("Server"), "not given")), nil
}

// consoleLog checks the serial console's log (L12): the kernel's messages
// and the boot's userland (cloud-init's lines, or a login prompt) are there.
func consoleLog(path string) (bool, string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err.Error()
	}
	text := string(data)
	kernel := firstLine(text, "Linux version")
	user := firstLine(text, "Cloud-init v.")
	if user == "" {
		user = firstLine(text, "cloud-init")
	}
	if user == "" {
		user = firstLine(text, "login:")
	}
	ev := fmt.Sprintf("%d bytes on ttyS0; kernel: %q; userland: %q", len(data), kernel, user)
	return kernel != "" && user != "", ev
}

// firstLine returns the first line holding substr, at most 100 bytes of
// it from substr on.
func firstLine(text, substr string) string {
	i := strings.Index(text, substr)
	if i < 0 {
		return ""
	}
	if j := strings.LastIndexAny(text[:i], "\r\n"); j >= 0 && i-j < 60 {
		i = j + 1 // the whole line, where its start is near
	}
	line := text[i:]
	if j := strings.IndexAny(line, "\r\n"); j >= 0 {
		line = line[:j]
	}
	if len(line) > 100 {
		line = line[:100]
	}
	return strings.TrimSpace(line)
}
