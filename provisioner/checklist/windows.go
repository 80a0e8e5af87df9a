package checklist

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// windowsScript is the one PowerShell script sent to a Windows guest: the
// settings as $CL_* variables, scripts/windows.ps1, and the run.
func windowsScript(s settings, w WindowsConfig) (string, error) {
	text, err := scripts.ReadFile("scripts/windows.ps1")
	if err != nil {
		return "", err
	}
	cbi := w.CloudbaseInit
	// The proxy's credentials travel beside the script, as the password.
	proxy, proxyAuth := splitProxy(s.Proxy)
	var b strings.Builder
	b.WriteString("# cloudimage-checklist: makes the OpenStack image checklist true, and checks it.\n")
	for _, v := range [][2]string{
		{"CL_FAMILY", psQuote(s.Family)},
		{"CL_MODE", psQuote(s.Mode)},
		{"CL_ITEMS", psArray(s.Items)},
		{"CL_SKIP", psArray(s.Skip)},
		{"CL_PROXY", psQuote(proxy)},
		{"CL_PROXY_AUTH", psBool(proxyAuth != "")},
		{"CL_ACCOUNT", psQuote(w.AccountName)},
		{"CL_PASSWORD_SET", psBool(w.AdministratorPassword != "")},
		{"CL_VIRTIO_WIN", psQuote(w.VirtioWin)},
		{"CL_GUEST_AGENT_INSTALLER", psQuote(w.GuestAgentInstaller)},
		{"CL_CLOUDBASE_INIT", psBool(cbi.Enabled == nil || *cbi.Enabled)},
		{"CL_CBI_INSTALLER", psQuote(cbi.Installer)},
		{"CL_CBI_SET_PASSWORD", psBool(cbi.SetPassword)},
		{"CL_CBI_METADATA_SERVICES", psArray(cbi.MetadataServices)},
		{"CL_CBI_PLUGINS", psArray(cbi.Plugins)},
		{"CL_CBI_SETTINGS", psHash(cbi.Settings)},
	} {
		fmt.Fprintf(&b, "$%s = %s\n", v[0], v[1])
	}
	b.WriteString("\n# ---- windows.ps1 ----\n")
	b.Write(text)
	b.WriteString("\nInvoke-Checklist\n")
	return b.String(), nil
}

// splitProxy is a proxy URL without its credentials, and those
// (USER:PASSWORD, decoded), "" when it has none.
func splitProxy(proxy string) (bare, auth string) {
	u, err := url.Parse(proxy)
	if err != nil || u.User == nil {
		return proxy, ""
	}
	pw, _ := u.User.Password()
	auth = u.User.Username() + ":" + pw
	u.User = nil
	return u.String(), auth
}

// psQuote quotes s for PowerShell: in single quotes, each quote inside it
// doubled. PowerShell takes the typographic quotes ‘ ’ ‚ ‛ for ' too.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if strings.ContainsRune("'\u2018\u2019\u201a\u201b", r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

func psArray(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = psQuote(s)
	}
	return "@(" + strings.Join(q, ", ") + ")"
}

// psHash writes m as a hashtable literal, its keys sorted so that the
// script is the same from run to run.
func psHash(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = psQuote(k) + " = " + psQuote(m[k])
	}
	return "@{" + strings.Join(parts, "; ") + "}"
}

func psBool(b bool) string {
	if b {
		return "$true"
	}
	return "$false"
}
