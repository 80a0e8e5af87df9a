//go:build !linux

package glance

// lowPriority does nothing where the nice value is not a thread's own.
func lowPriority() {}
