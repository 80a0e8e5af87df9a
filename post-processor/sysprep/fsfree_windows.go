package sysprep

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// fsFree returns the bytes that path's volume has free for this user, and
// the volume's name.
func fsFree(path string) (uint64, any, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, nil, err
	}
	p, err := windows.UTF16PtrFromString(abs)
	if err != nil {
		return 0, nil, err
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree); err != nil {
		return 0, nil, err
	}
	return free, filepath.VolumeName(abs), nil
}
