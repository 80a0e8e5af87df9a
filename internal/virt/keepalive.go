package virt

import (
	"fmt"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The keepalive of a connection to a remote daemon: a call every
// keepaliveInterval, and the connection cut when no byte has moved either
// way for keepaliveTimeout. Bytes written count, so that an upload over a
// slow but live link, which holds the daemon's answers back behind it, is
// not taken for a dead host; a dead link stops taking them once the
// kernel's buffers fill. Tests shorten both.
var (
	keepaliveInterval = 5 * time.Second
	keepaliveTimeout  = 30 * time.Second
)

// watched is a connection that remembers when bytes last moved on it.
type watched struct {
	net.Conn
	last atomic.Int64 // UnixNano
}

func watch(c net.Conn) *watched {
	w := &watched{Conn: c}
	w.touch()
	return w
}

func (w *watched) touch() { w.last.Store(time.Now().UnixNano()) }

func (w *watched) idle() time.Duration { return time.Since(time.Unix(0, w.last.Load())) }

func (w *watched) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 {
		w.touch()
	}
	return n, err
}

func (w *watched) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if n > 0 {
		w.touch()
	}
	return n, err
}

type keepalive struct {
	done   chan struct{}
	once   sync.Once
	onLost atomic.Pointer[func(error)]
}

func startKeepalive(c *Conn) *keepalive {
	k := &keepalive{done: make(chan struct{})}
	go k.run(c)
	return k
}

func (k *keepalive) stop() { k.once.Do(func() { close(k.done) }) }

func (k *keepalive) run(c *Conn) {
	tick := time.NewTicker(keepaliveInterval)
	defer tick.Stop()
	var asking atomic.Bool
	for {
		select {
		case <-k.done:
			return
		case <-c.Disconnected():
			return
		case <-tick.C:
		}
		if idle := c.raw.idle(); idle > keepaliveTimeout {
			err := fmt.Errorf("libvirt at %s: nothing received or sent for %s: the host or the network to it is down; connection closed", Redact(c.uri), idle.Round(time.Second))
			log.Printf("[ERROR] %v", err)
			c.cut()
			if f := k.onLost.Load(); f != nil {
				(*f)(err)
			}
			return
		}
		// One question at a time: a call that hangs is what this finds.
		if !asking.Swap(true) {
			go func() {
				_, _ = c.ConnectGetLibVersion()
				asking.Store(false)
			}()
		}
	}
}
