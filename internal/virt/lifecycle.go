package virt

import (
	"bytes"
	"context"

	"github.com/digitalocean/go-libvirt"
)

// stopWatch reports when a domain stops. Start makes it before it lets the
// domain run, so that the event cannot be missed.
type stopWatch struct {
	stopped chan struct{}
	cancel  context.CancelFunc
}

func watchStop(l *libvirt.Libvirt, dom libvirt.Domain) (*stopWatch, error) {
	ctx, cancel := context.WithCancel(context.Background())
	events, err := l.LifecycleEvents(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	w := &stopWatch{stopped: make(chan struct{}), cancel: cancel}
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

func (w *stopWatch) close() { w.cancel() }
