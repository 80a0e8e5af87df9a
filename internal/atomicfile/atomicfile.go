// Package atomicfile publishes files whole or not at all: each is written
// under a hidden temporary name beside its final one, synced, renamed, and
// its folder synced. A build killed at any point leaves at most a hidden
// temporary, never a complete-looking half file under the final name.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// TempName is a hidden temporary name beside final, in the same folder
// (so that the rename is atomic): .<name>.tmp-<random>.
func TempName(final string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".tmp-"+hex.EncodeToString(b))
}

// Publish syncs temp to disk, renames it to final and syncs the folder,
// so that final, once there, survives a crash whole.
func Publish(temp, final string) error {
	if err := syncPath(temp); err != nil {
		return fmt.Errorf("writing %s: %w", final, err)
	}
	if err := os.Rename(temp, final); err != nil {
		return err
	}
	return syncDir(filepath.Dir(final))
}

// WriteFile writes data to path whole or not at all.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	temp := TempName(path)
	if err := os.WriteFile(temp, data, perm); err != nil {
		os.Remove(temp)
		return err
	}
	if err := Publish(temp, path); err != nil {
		os.Remove(temp)
		return err
	}
	return nil
}

func syncPath(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a rename in dir durable. Some systems cannot sync a
// folder (Windows): that is not an error there.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !os.IsPermission(err) && filepath.Separator == '/' {
		return err
	}
	return nil
}
