package checklist

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// remoteOutput runs command in the guest and returns its standard output
// and error; an exit status other than 0 is an error that carries stderr.
func remoteOutput(ctx context.Context, comm packersdk.Communicator, command string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := &packersdk.RemoteCmd{Command: command, Stdout: &stdout, Stderr: &stderr}
	if err := cmd.RunWithUi(ctx, comm, quietUi{}); err != nil {
		return "", err
	}
	if cmd.ExitStatus() != 0 {
		return stdout.String(), fmt.Errorf("%s: exit status %d: %s", command, cmd.ExitStatus(), strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// guestFamily reads the guest's release files and names its family; a
// guest without a POSIX shell is asked whether it is Windows.
func guestFamily(ctx context.Context, comm packersdk.Communicator) (string, error) {
	var files [3]string
	for i, f := range []string{"/etc/os-release", "/etc/redhat-release", "/etc/lsb-release"} {
		out, err := remoteOutput(ctx, comm, "cat "+f+" 2>/dev/null || true")
		if err != nil {
			if isWindows(ctx, comm) {
				return "windows", nil
			}
			return "", fmt.Errorf("family auto: reading %s: %w", f, err)
		}
		files[i] = out
	}
	fam := detectFamily(files[0], files[1], files[2])
	if fam == "" {
		return "", fmt.Errorf("family auto: no /etc/os-release, /etc/redhat-release or /etc/lsb-release names a known family; set family (%s)", strings.Join(Families[1:], ", "))
	}
	return fam, nil
}

// isWindows asks PowerShell for the platform: a command that works in
// cmd.exe and PowerShell, the shells of Windows' SSH server.
func isWindows(ctx context.Context, comm packersdk.Communicator) bool {
	out, err := remoteOutput(ctx, comm, `powershell.exe -NoProfile -NonInteractive -Command "[Environment]::OSVersion.Platform"`)
	return err == nil && strings.Contains(out, "Win32NT")
}

// target is where and how the script runs in the guest.
type target struct {
	path        string // where it is uploaded
	run, remove string // the commands that run it and remove it
	prefix      string // written before the script: PowerShell's BOM
	// secrets are uploaded beside the script, for the script to read and
	// remove: passwords that must not be in the script's text.
	secrets         []secretFile
	permissionHints bool // explain sudo failures
}

// secretFile is a file of the guest that holds a secret.
type secretFile struct{ path, text string }

// linuxTarget runs the script with sh from /tmp.
func linuxTarget() target {
	path := "/tmp/cloudimage-checklist-" + randomHex() + ".sh"
	return target{path: path, run: "sh " + path, remove: "rm -f " + path, permissionHints: true}
}

// windowsTarget runs the script with Windows PowerShell from
// C:/Windows/Temp, through cmd.exe (WinRM, OpenSSH's default shell) or
// PowerShell alike. The BOM makes PowerShell read it as UTF-8. The
// password, if any, goes beside it as <script>.secret; the proxy's
// credentials (USER:PASSWORD), if any, as <script>.proxy.
func windowsTarget(password, proxyAuth string) target {
	base := "C:/Windows/Temp/cloudimage-checklist-" + randomHex()
	path := base + ".ps1"
	const ps = "powershell.exe -NoProfile -NonInteractive "
	t := target{
		path:   path,
		run:    ps + `-ExecutionPolicy Bypass -File "` + path + `"`,
		remove: ps + `-Command "Remove-Item -Force -ErrorAction SilentlyContinue -LiteralPath '` + path + `', '` + base + `.secret', '` + base + `.proxy'"`,
		prefix: "\ufeff",
	}
	if password != "" {
		t.secrets = append(t.secrets, secretFile{base + ".secret", password})
	}
	if proxyAuth != "" {
		t.secrets = append(t.secrets, secretFile{base + ".proxy", proxyAuth})
	}
	return t
}

// runScript uploads script, runs it and collects the items' results. Its
// step lines go to the UI, everything else it prints to the log.
func runScript(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, script string, t target) ([]Result, error) {
	body := t.prefix + script
	// 0600: the script may carry a proxy URL's credentials or a password.
	var fi os.FileInfo = scriptInfo{size: int64(len(body))}
	if err := comm.Upload(t.path, strings.NewReader(body), &fi); err != nil {
		return nil, fmt.Errorf("uploading the checklist script: %w", err)
	}
	defer func() {
		if _, err := remoteOutput(context.Background(), comm, t.remove); err != nil {
			log.Printf("[WARN] removing %s: %v", t.path, err)
		}
	}()
	for _, s := range t.secrets {
		var sfi os.FileInfo = scriptInfo{size: int64(len(s.text))}
		if err := comm.Upload(s.path, strings.NewReader(s.text), &sfi); err != nil {
			return nil, fmt.Errorf("uploading %s: %w", s.path, err)
		}
	}

	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	parsed := make(chan []Result, 1)
	go func() { parsed <- parse(pr, ui) }()
	cmd := &packersdk.RemoteCmd{Command: t.run, Stdout: pw, Stderr: &stderr}
	err := cmd.RunWithUi(ctx, comm, quietUi{})
	pw.Close()
	results := <-parsed
	if err != nil {
		return nil, err
	}
	if cmd.ExitStatus() != 0 {
		msg := strings.TrimSpace(stderr.String())
		if t.permissionHints && strings.Contains(msg, "tty") {
			return nil, fmt.Errorf("the checklist needs root and sudo wants a terminal (requiretty): set ssh_pty = true in the source (%s)", msg)
		}
		if t.permissionHints && strings.Contains(msg, "sudo") {
			return nil, fmt.Errorf("the checklist needs root: log in as root, or give the user sudo without a password (%s)", msg)
		}
		return nil, fmt.Errorf("the checklist script failed (exit status %d): %s", cmd.ExitStatus(), msg)
	}
	return results, nil
}

// parse reads the script's output: "@@step ID TEXT" lines are shown,
// "@@result ID STATUS BASE64" lines are results, the rest is logged.
func parse(r io.Reader, ui packersdk.Ui) []Result {
	var results []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch f := strings.SplitN(line, " ", 4); {
		case f[0] == "@@step" && len(f) >= 3:
			label := f[1]
			if n := itemName(f[1]); n != "" {
				label += " " + n
			}
			ui.Say(label + ": " + strings.Join(f[2:], " "))
		case f[0] == "@@result" && len(f) >= 3:
			ev := ""
			if len(f) == 4 {
				b, err := base64.StdEncoding.DecodeString(f[3])
				if err != nil {
					b = []byte("(evidence unreadable: " + err.Error() + ")")
				}
				ev = strings.TrimRight(string(b), "\n")
			}
			results = append(results, Result{ID: f[1], Name: itemName(f[1]), Status: f[2], Evidence: ev})
		default:
			log.Printf("[DEBUG] checklist: %s", line)
		}
	}
	// Drains what the scanner left (it stops at a line over 16 MiB), so
	// that the script never blocks writing its output.
	_, _ = io.Copy(io.Discard, r)
	return results
}

// scriptInfo is the FileInfo the script is uploaded with: its mode.
type scriptInfo struct{ size int64 }

func (i scriptInfo) Name() string       { return "cloudimage-checklist.sh" }
func (i scriptInfo) Size() int64        { return i.size }
func (i scriptInfo) Mode() os.FileMode  { return 0o600 }
func (i scriptInfo) ModTime() time.Time { return time.Time{} }
func (i scriptInfo) IsDir() bool        { return false }
func (i scriptInfo) Sys() any           { return nil }

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// quietUi drops what RemoteCmd.RunWithUi would echo: the script's output
// is parsed, not shown.
type quietUi struct{ packersdk.Ui }

func (quietUi) Say(string)     {}
func (quietUi) Message(string) {}
func (quietUi) Error(string)   {}
