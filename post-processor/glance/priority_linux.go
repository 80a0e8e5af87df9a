package glance

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// lowPriority puts the calling goroutine on a thread of its own at nice
// 19, the lowest priority, for the rest of its life: Linux sets a nice
// value per thread, and a goroutine that ends locked to its thread takes
// the thread with it, so the priority never passes to other goroutines.
// It is only a priority: where it cannot be set, the work goes on.
func lowPriority() {
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}
