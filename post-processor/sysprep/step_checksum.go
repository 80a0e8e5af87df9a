package sysprep

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/stream"
)

var hashes = map[string]func() hash.Hash{"sha256": sha256.New, "sha512": sha512.New, "md5": md5.New}

// stepChecksum reads each output once, feeding every checksum type, and
// writes <file>.<type> beside it in the format `sha256sum -c` reads.
type stepChecksum struct {
	config *Config
}

func (s *stepChecksum) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	if len(s.config.ChecksumTypes) == 0 {
		return multistep.ActionContinue
	}
	for _, o := range state.Get("outputs").([]*output) {
		sums, err := checksums(ctx, o.temp, s.config.ChecksumTypes)
		if err != nil {
			return halt(state, err)
		}
		o.checksums = map[string]string{}
		for _, typ := range s.config.ChecksumTypes {
			o.checksums[typ] = sums[typ]
			line := sums[typ] + "  " + filepath.Base(o.final) + "\n"
			if err := os.WriteFile(o.temp+"."+typ, []byte(line), 0o644); err != nil {
				return halt(state, err)
			}
			ui.Say(fmt.Sprintf("%s %s: %s", typ, filepath.Base(o.final), sums[typ]))
		}
	}
	return multistep.ActionContinue
}

func (s *stepChecksum) Cleanup(multistep.StateBag) {}

// checksums hashes path with each type in one read, streamed.
func checksums(ctx context.Context, path string, types []string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hs := map[string]hash.Hash{}
	var ws []io.Writer
	for _, t := range types {
		hs[t] = hashes[t]()
		ws = append(ws, hs[t])
	}
	if _, err := io.CopyBuffer(io.MultiWriter(ws...), stream.Reader(ctx, f), make([]byte, 1<<20)); err != nil {
		return nil, fmt.Errorf("checksum of %s: %w", path, err)
	}
	out := map[string]string{}
	for t, h := range hs {
		out[t] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}
