package glance

import (
	"context"
	"fmt"
	"io"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
)

// sender puts the data into an image record, as import_method says.
type sender func(ctx context.Context, id string, data io.Reader) error

func (c *Config) sender(client *gophercloud.ServiceClient) sender {
	if c.ImportMethod == "web-download" {
		// Glance fetches image_url itself; the local file, read meanwhile,
		// gives the hashes that what Glance fetched must have.
		return func(ctx context.Context, id string, data io.Reader) error {
			opts := importOpts{method: imageimport.WebDownloadMethod, uri: c.ImageURL, stores: c.Stores}
			if err := imageimport.Create(ctx, client, id, opts).ExtractErr(); err != nil {
				return fmt.Errorf("importing (web-download of %s): %w", c.ImageURL, err)
			}
			_, err := io.Copy(io.Discard, data)
			return err
		}
	}
	if c.ImportMethod == "glance-direct" {
		// Staged, then imported into the stores: Glance may convert or
		// check the data on the way.
		return func(ctx context.Context, id string, data io.Reader) error {
			if err := imagedata.Stage(ctx, client, id, data).ExtractErr(); err != nil {
				return fmt.Errorf("staging: %w", err)
			}
			opts := importOpts{method: imageimport.GlanceDirectMethod, stores: c.Stores}
			if err := imageimport.Create(ctx, client, id, opts).ExtractErr(); err != nil {
				return fmt.Errorf("importing (glance-direct): %w", err)
			}
			return nil
		}
	}
	return func(ctx context.Context, id string, data io.Reader) error {
		return imagedata.Upload(ctx, client, id, data).ExtractErr()
	}
}

// importOpts is the import request with the stores, which gophercloud's
// CreateOpts lacks.
type importOpts struct {
	method imageimport.ImportMethod
	uri    string
	stores []string
}

func (o importOpts) ToImportCreateMap() (map[string]any, error) {
	m, err := imageimport.CreateOpts{Name: o.method, URI: o.uri}.ToImportCreateMap()
	if err != nil {
		return nil, err
	}
	if len(o.stores) > 0 {
		m["stores"] = o.stores
	}
	return m, nil
}
