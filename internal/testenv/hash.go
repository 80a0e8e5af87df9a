package testenv

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"testing"
)

// MD5 is a file's md5, as Glance's checksum holds it.
func MD5(t *testing.T, path string) string { return hashFile(t, path, md5.New()) }

// SHA256 is a file's sha256.
func SHA256(t *testing.T, path string) string { return hashFile(t, path, sha256.New()) }

func hashFile(t *testing.T, path string, h hash.Hash) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
