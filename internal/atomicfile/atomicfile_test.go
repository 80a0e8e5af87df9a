package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The file appears whole under its name, and nothing else is left.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := WriteFile(path, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "{}\n" {
		t.Errorf("%q, %v", b, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %v", entries)
	}
	// A folder that does not exist: an error, and no file.
	if err := WriteFile(filepath.Join(dir, "no", "r.json"), nil, 0o644); err == nil {
		t.Error("no error")
	}
}

// Until Publish, the final name does not exist; the temporary is hidden,
// beside it.
func TestTempNameAndPublish(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "web.qcow2")
	temp := TempName(final)
	if filepath.Dir(temp) != dir || !strings.HasPrefix(filepath.Base(temp), ".web.qcow2.tmp-") || TempName(final) == temp {
		t.Errorf("temp %s", temp)
	}
	if err := os.WriteFile(temp, []byte("disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(final); !os.IsNotExist(err) {
		t.Errorf("final exists before Publish: %v", err)
	}
	if err := Publish(temp, final); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(temp); !os.IsNotExist(err) {
		t.Errorf("temp left: %v", err)
	}
	if b, _ := os.ReadFile(final); string(b) != "disk" {
		t.Errorf("final holds %q", b)
	}
}
