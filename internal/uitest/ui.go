// Package uitest is a packersdk.Ui for unit tests: it records what a step
// shows its user, safely from several goroutines, and can react to a line
// (to press Ctrl-C when a build reaches it).
package uitest

import (
	"fmt"
	"io"
	"strings"
	"sync"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// UI records every line said, errors apart, and the progress bars' bytes.
type UI struct {
	mu     sync.Mutex
	lines  []string
	errors []string
	// Progress is how many bytes each progress bar read, by name.
	progress map[string]int64
	// OnSay, when set, is called with each line said (outside the lock).
	OnSay func(line string)
}

var _ packersdk.Ui = (*UI)(nil)

// New returns an empty recorder.
func New() *UI { return &UI{progress: map[string]int64{}} }

func (u *UI) record(to *[]string, line string) {
	u.mu.Lock()
	*to = append(*to, line)
	hook := u.OnSay
	u.mu.Unlock()
	if hook != nil {
		hook(line)
	}
}

func (u *UI) Say(m string)                        { u.record(&u.lines, m) }
func (u *UI) Sayf(f string, a ...any)             { u.Say(fmt.Sprintf(f, a...)) }
func (u *UI) Message(m string)                    { u.record(&u.lines, m) }
func (u *UI) Error(m string)                      { u.record(&u.errors, m) }
func (u *UI) Errorf(f string, a ...any)           { u.Error(fmt.Sprintf(f, a...)) }
func (u *UI) Machine(string, ...string)           {}
func (u *UI) Ask(string) (string, error)          { return "", fmt.Errorf("uitest: no answers") }
func (u *UI) Askf(string, ...any) (string, error) { return "", fmt.Errorf("uitest: no answers") }
func (u *UI) Output() string                      { return strings.Join(u.Lines(), "\n") }
func (u *UI) Lines() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.lines...)
}
func (u *UI) Errors() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.errors...)
}
func (u *UI) Said(substr string) bool { return strings.Contains(u.Output(), substr) }
func (u *UI) ErrorSaid(substr string) bool {
	return strings.Contains(strings.Join(u.Errors(), "\n"), substr)
}

// ProgressRead is how many bytes the progress bar of src read.
func (u *UI) ProgressRead(src string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.progress[src]
}

// TrackProgress counts the bytes read through the bar.
func (u *UI) TrackProgress(src string, _, _ int64, stream io.ReadCloser) io.ReadCloser {
	return &counted{u: u, src: src, r: stream}
}

type counted struct {
	u   *UI
	src string
	r   io.ReadCloser
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.u.mu.Lock()
	c.u.progress[c.src] += int64(n)
	c.u.mu.Unlock()
	return n, err
}

func (c *counted) Close() error { return c.r.Close() }
