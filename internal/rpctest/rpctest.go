// Package rpctest serves an artifact through the Packer SDK's RPC, as
// Packer core and a post-processor in another plugin process see it, so a
// test can check what crosses: state values change type there (numbers,
// maps, structs become msgpack maps) and only the Artifact methods cross.
package rpctest

import (
	"net"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/packer"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"
	sdkrpc "github.com/hashicorp/packer-plugin-sdk/rpc"
	"github.com/mitchellh/mapstructure"
)

// Artifact serves a over the SDK's RPC and returns the client's view.
func Artifact(t testing.TB, a packer.Artifact) packer.Artifact {
	t.Helper()
	serverConn, clientConn := net.Pipe()
	server, err := sdkrpc.NewServer(serverConn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	if err := server.RegisterArtifact(a); err != nil {
		t.Fatal(err)
	}
	go server.Serve()
	client, err := sdkrpc.NewClient(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client.Artifact()
}

// RegistryImages reads an artifact's HCP Packer metadata as Packer core
// does before it pushes a build to the registry (its
// internal/hcp/registry: a weakly typed mapstructure decode of the
// ArtifactStateURI state into a list of images). An artifact whose
// metadata Packer could not decode fails the test.
func RegistryImages(t testing.TB, a packer.Artifact) []registryimage.Image {
	t.Helper()
	var images []registryimage.Image
	decoder, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{Result: &images, WeaklyTypedInput: true})
	if err != nil {
		t.Fatal(err)
	}
	state := a.State(registryimage.ArtifactStateURI)
	if state == nil {
		t.Fatalf("%s: no HCP Packer metadata (%s)", a.BuilderId(), registryimage.ArtifactStateURI)
	}
	if err := decoder.Decode(state); err != nil {
		t.Fatalf("%s: Packer core cannot decode the HCP Packer metadata %#v: %v", a.BuilderId(), state, err)
	}
	for _, img := range images {
		if err := img.Validate(); err != nil {
			t.Errorf("%s: %v (%+v)", a.BuilderId(), err, img)
		}
	}
	return images
}
