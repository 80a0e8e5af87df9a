package testenv

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// Cloud logs in to a cloud of the harness's clouds.yaml and returns its
// provider client, endpoint options and Glance client.
func Cloud(t *testing.T, name string) (*gophercloud.ProviderClient, gophercloud.EndpointOpts, *gophercloud.ServiceClient) {
	t.Helper()
	Get(t, "OS_CLIENT_CONFIG_FILE")
	ctx := context.Background()
	ao, eo, tlsConfig, err := clouds.Parse(clouds.WithCloudName(name))
	if err != nil {
		t.Fatal(err)
	}
	// Keystone's tokens last an hour; test/verify holds its client longer
	// than that (it deletes its image when it ends).
	ao.AllowReauth = true
	pc, err := config.NewProviderClient(ctx, ao, config.WithTLSConfig(tlsConfig))
	if err != nil {
		t.Fatal(err)
	}
	img, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	return pc, eo, img
}

// ImagesNamed lists the images of that name ("" for all), oldest first.
func ImagesNamed(t *testing.T, c *gophercloud.ServiceClient, name string) []images.Image {
	t.Helper()
	var found []images.Image
	err := images.List(c, images.ListOpts{Name: name, SortKey: "created_at", SortDir: "asc"}).EachPage(context.Background(), func(_ context.Context, p pagination.Page) (bool, error) {
		list, err := images.ExtractImages(p)
		found = append(found, list...)
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
