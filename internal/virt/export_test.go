package virt

import "time"

// SetKeepalive shortens the keepalive for a test; the returned function
// restores it.
func SetKeepalive(interval, timeout time.Duration) (restore func()) {
	i, t := keepaliveInterval, keepaliveTimeout
	keepaliveInterval, keepaliveTimeout = interval, timeout
	return func() { keepaliveInterval, keepaliveTimeout = i, t }
}
