package harness_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// gophercloud, configured from the harness's clouds.yaml, uploads an image
// to the real Glance behind the real Keystone; Glance activates it with the
// right checksum, and the bytes read back are the bytes sent.
func TestGlanceUploadAndReadBack(t *testing.T) {
	testenv.Get(t, "OS_CLIENT_CONFIG_FILE")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ao, eo, tlsConfig, err := clouds.Parse(clouds.WithCloudName("cloudimage-admin"))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := config.NewProviderClient(ctx, ao, config.WithTLSConfig(tlsConfig))
	if err != nil {
		t.Fatalf("authenticating with Keystone: %v", err)
	}
	client, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		t.Fatalf("finding Glance in the catalog: %v", err)
	}

	data := make([]byte, 3<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	img, err := images.Create(ctx, client, images.CreateOpts{
		Name: "cloudimage-harness-" + testenv.RandomHex(t, 3), DiskFormat: "raw", ContainerFormat: "bare",
		Tags: []string{"cloudimage-test"},
	}).Extract()
	if err != nil {
		t.Fatalf("creating the image record: %v", err)
	}
	t.Cleanup(func() {
		if err := images.Delete(context.Background(), client, img.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("deleting image %s: %v", img.ID, err)
		}
	})
	if err := imagedata.Upload(ctx, client, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("uploading: %v", err)
	}

	got, err := images.Get(ctx, client, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if got.Status != images.ImageStatusActive || got.Checksum != hex.EncodeToString(sum[:]) || got.SizeBytes != int64(len(data)) {
		t.Fatalf("image is %s, %d bytes, checksum %s; want active, %d bytes, %x", got.Status, got.SizeBytes, got.Checksum, len(data), sum)
	}
	r, err := imagedata.Download(ctx, client, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	back, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, data) {
		t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(back), len(data))
	}
}
