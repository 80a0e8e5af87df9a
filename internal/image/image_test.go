package image

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeQemuImg puts a qemu-img on PATH that records its arguments and
// prints out; it returns the file the arguments go to.
func fakeQemuImg(t *testing.T, out string) string {
	t.Helper()
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" >> " + args + "\nprintf '%s' '" + out + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "qemu-img"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return args
}

func calls(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// Every call names the format it expects: bytes a guest or a download
// wrote are never left to qemu-img's guess (a raw disk holding a qcow2
// header naming a host file as its backing file).
func TestFormatsAreNamed(t *testing.T) {
	args := fakeQemuImg(t, `{"format": "raw", "virtual-size": 1073741824, "actual-size": 4096}`)
	ctx := context.Background()
	info, err := Inspect(ctx, "/disk.raw", "raw")
	if err != nil || info.Format != "raw" || info.VirtualSize != 1<<30 {
		t.Fatalf("Inspect: %+v, %v", info, err)
	}
	if _, err := Inspect(ctx, "/download.img", ""); err != nil {
		t.Fatal(err)
	}
	if err := Convert(ctx, "/disk.raw", "/out.qcow2", ConvertOptions{SrcFormat: "raw", Format: "qcow2", Compress: true, CompressionType: "zstd"}); err != nil {
		t.Fatal(err)
	}
	if err := CopyInto(ctx, "/base.qcow2", "qcow2", "/vol.raw", "raw"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"info --output=json -f raw /disk.raw",
		"info --output=json /download.img", // a download, probed once
		"convert -p -f raw -O qcow2 -c -o compression_type=zstd /disk.raw /out.qcow2",
		"convert -n -f qcow2 -O raw /base.qcow2 /vol.raw",
	}
	if got := calls(t, args); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("qemu-img ran\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := Convert(ctx, "/disk", "/out", ConvertOptions{Format: "qcow2"}); err == nil || !strings.Contains(err.Error(), "never guessed") {
		t.Errorf("Convert without a source format: %v", err)
	}
}

// qemu-img -p's progress lines, ending in carriage returns, are read
// as percentages; other lines are not.
func TestProgress(t *testing.T) {
	var got []float64
	readProgress(strings.NewReader("    (0.00/100%)\r    (5.00/100%)\r    (12.50/100%)\rnoise (1/2)\n    (100.00/100%)\r\n"), func(p float64) { got = append(got, p) })
	if want := []float64{0, 5, 12.5, 100}; !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	for _, line := range []string{"", "(", "(x/100%)", "(12/200%)", "12/100"} {
		if p, ok := QemuImgPercent(line); ok {
			t.Errorf("QemuImgPercent(%q) = %v, want no percentage", line, p)
		}
	}
}

// An image that points at another file, a backing file or an external
// data file, is refused; a plain one is not. Made with the real qemu-img.
func TestSelfContained(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "shadow")
	if err := os.WriteFile(secret, []byte("root:$6$not-for-the-image:19000::::::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		if _, err := run(context.Background(), "qemu-img", args...); err != nil {
			t.Fatal(err)
		}
	}
	plain, backed, data := filepath.Join(dir, "plain.qcow2"), filepath.Join(dir, "backed.qcow2"), filepath.Join(dir, "data.qcow2")
	run("create", "-q", "-f", "qcow2", plain, "1M")
	run("create", "-q", "-f", "qcow2", "-b", secret, "-F", "raw", backed, "1M")
	run("create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), data, "1M")
	for _, tc := range []struct{ path, want string }{
		{plain, ""},
		{backed, "has a backing file, " + secret},
		{data, "has an external data file, " + filepath.Join(dir, "data.raw")},
	} {
		info, err := Inspect(context.Background(), tc.path, "qcow2")
		if err != nil {
			t.Fatal(err)
		}
		err = info.SelfContained(tc.path)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}
