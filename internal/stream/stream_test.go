package stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// A copy goes through until Ctrl-C, then stops with the context's error.
func TestStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Reader(ctx, strings.NewReader("abcdef"))
	var out bytes.Buffer
	w := Writer(ctx, &out)
	buf := make([]byte, 3)
	n, err := r.Read(buf)
	if n != 3 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	if _, err := w.Write(buf[:n]); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("write after cancel: %v", err)
	}
	if _, err := io.Copy(w, r); !errors.Is(err, context.Canceled) || out.String() != "abc" {
		t.Errorf("copy after cancel: %v, wrote %q", err, out.String())
	}
}
