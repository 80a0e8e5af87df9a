//go:build !windows

package sysprep

import "syscall"

// fsFree returns the bytes that path's file system has free for users other
// than root, and that file system's id.
func fsFree(path string) (uint64, any, error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(path, &s); err != nil {
		return 0, nil, err
	}
	// The fields' types differ between the BSDs, macOS and Linux.
	return uint64(s.Bavail) * uint64(s.Bsize), s.Fsid, nil
}
