package virt

import (
	"bytes"
	"context"
	"time"

	"github.com/digitalocean/go-libvirt"
)

// StopWatch reports when a domain stops. Create it before whatever makes
// the domain stop (a shutdown request, an installer's poweroff), so the
// event cannot be missed.
type StopWatch struct {
	l       *libvirt.Libvirt
	dom     libvirt.Domain
	stopped chan struct{}
	cancel  context.CancelFunc
}

// WatchStop starts watching dom's lifecycle events.
func WatchStop(l *libvirt.Libvirt, dom libvirt.Domain) (*StopWatch, error) {
	ctx, cancel := context.WithCancel(context.Background())
	events, err := l.LifecycleEvents(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	w := &StopWatch{l: l, dom: dom, stopped: make(chan struct{}), cancel: cancel}
	go func() {
		signalled := false
		// Drain until cancelled: go-libvirt's event router blocks on an
		// unread channel.
		for ev := range events {
			if !signalled && bytes.Equal(ev.Dom.UUID[:], dom.UUID[:]) && libvirt.DomainEventType(ev.Event) == libvirt.DomainEventStopped {
				close(w.stopped)
				signalled = true
			}
		}
	}()
	return w, nil
}

// Wait returns true once the domain is shut off, false when ctx ends
// first. Besides the event it looks at the domain's state now and then, so
// a lost event connection costs seconds, not the build.
func (w *StopWatch) Wait(ctx context.Context) bool {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		if w.isOff() {
			return true
		}
		select {
		case <-w.stopped:
			return true
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

func (w *StopWatch) isOff() bool {
	state, _, err := w.l.DomainGetState(w.dom, 0)
	return err == nil && libvirt.DomainState(state) == libvirt.DomainShutoff || libvirt.IsNotFound(err)
}

// Close stops watching.
func (w *StopWatch) Close() { w.cancel() }
