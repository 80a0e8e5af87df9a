package glance

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
	"github.com/gophercloud/gophercloud/v2/pagination"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
)

// upload runs the whole post-processor: conflict check, record, data,
// activation, verification, then protection, members and the conflict's
// settling. From the record's creation on, a failure deletes it.
func upload(ctx context.Context, ui packersdk.Ui, c *Config, a packersdk.Artifact) (*Artifact, error) {
	path, info, err := artifact.Disk(ctx, a)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	ui.Say(fmt.Sprintf("Connecting to Glance (%s)...", c.describeAuth()))
	client, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	project := projectID(client)
	existing, err := imagesNamed(ctx, client, c.ImageName, project)
	if err != nil {
		return nil, err
	}
	if len(existing) > 0 {
		switch c.OnConflict {
		case "error":
			return nil, fmt.Errorf("an image named %q exists in the project (%s): set on_conflict to replace, rename or keep", c.ImageName, existing[0].ID)
		case "keep":
			ui.Say(fmt.Sprintf("Image %q exists (%s): kept, nothing uploaded (on_conflict = keep)", c.ImageName, existing[0].ID))
			return &Artifact{client: client, id: existing[0].ID, name: c.ImageName, region: c.Region}, nil
		}
	}

	opts := c.createOpts(a, info)
	b, err := openBody(path, ui)
	if err != nil {
		return nil, err
	}
	defer b.finish()
	if c.ImportMethod == "web-download" {
		ui.Say(fmt.Sprintf("Importing %s into Glance as %q (web-download); hashing %s to check it...", c.ImageURL, c.ImageName, path))
	} else {
		ui.Say(fmt.Sprintf("Uploading %s (%s, %d MiB) to Glance as %q (%s)...", path, opts.DiskFormat, b.size>>20, c.ImageName, c.ImportMethod))
	}
	start := time.Now()
	img, err := createAndUpload(ctx, ui, client, opts, b, *c.Retries, c.sender(client))
	if err != nil {
		return nil, err
	}
	// From here on a failure deletes the new image.
	ok := false
	defer func() {
		if !ok {
			deleteImage(client, img.ID, ui)
		}
	}()
	elapsed := time.Since(start)
	img, err = waitActive(ctx, client, img.ID)
	if err != nil {
		return nil, err
	}
	sha, md := b.sums()
	if got := fmt.Sprint(img.Properties["os_hash_value"]); img.Properties["os_hash_algo"] == "sha512" && got != sha {
		return nil, fmt.Errorf("Glance holds other data than was sent: os_hash_value (sha512) %s, sent %s; the image is deleted", got, sha)
	}
	if img.Checksum != "" && img.Checksum != md {
		return nil, fmt.Errorf("Glance holds other data than was sent: checksum (md5) %s, sent %s; the image is deleted", img.Checksum, md)
	}
	ui.Say(fmt.Sprintf("Image %s is active: %d MiB in %s (%.1f MiB/s), sha512 and md5 match", img.ID, b.size>>20, elapsed.Round(time.Millisecond), float64(b.size)/(1<<20)/elapsed.Seconds()))

	if c.Protected {
		if err := images.Update(ctx, client, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: true}}).Err; err != nil {
			return nil, fmt.Errorf("protecting the image: %w", err)
		}
	}
	for _, m := range c.Members {
		if err := members.Create(ctx, client, img.ID, m).Err; err != nil {
			return nil, fmt.Errorf("members: sharing with %s: %w", m, err)
		}
	}
	for _, old := range existing {
		switch c.OnConflict {
		case "replace":
			ui.Say(fmt.Sprintf("Deleting the image it replaces, %s", old.ID))
			// The new image is good: an old one that cannot go (protected)
			// is a warning, not a reason to lose the new one.
			if err := images.Delete(ctx, client, old.ID).ExtractErr(); err != nil {
				ui.Error(fmt.Sprintf("Warning: on_conflict = replace: could not delete %s (protected?): %v", old.ID, err))
			}
		case "rename":
			name := c.ImageName + "-" + old.CreatedAt.UTC().Format("20060102T150405Z")
			ui.Say(fmt.Sprintf("Renaming the image %s to %q", old.ID, name))
			if err := images.Update(ctx, client, old.ID, images.UpdateOpts{images.ReplaceImageName{NewName: name}}).Err; err != nil {
				return nil, fmt.Errorf("on_conflict = rename: renaming %s: %w", old.ID, err)
			}
		}
	}
	if c.KeepReleases > 0 {
		if err := rotate(ctx, ui, client, c.ImageName, project, c.KeepReleases); err != nil {
			return nil, err
		}
	}
	ok = true
	return &Artifact{client: client, id: img.ID, name: c.ImageName, region: c.Region}, nil
}

// rotate keeps the newest keep releases of name (the image of that name
// and those renamed name-<time>) and deletes the older ones.
func rotate(ctx context.Context, ui packersdk.Ui, client *gophercloud.ServiceClient, name, project string, keep int) error {
	all, err := imagesNamed(ctx, client, "", project)
	if err != nil {
		return err
	}
	renamed := regexp.MustCompile("^" + regexp.QuoteMeta(name) + `(-\d{8}T\d{6}Z)?$`)
	var releases []images.Image
	for _, img := range all {
		if renamed.MatchString(img.Name) {
			releases = append(releases, img)
		}
	}
	// Oldest first: delete from the front.
	for i := 0; i < len(releases)-keep; i++ {
		old := releases[i]
		if old.Protected {
			ui.Error(fmt.Sprintf("Warning: keep_releases: %s (%s) is protected: kept", old.Name, old.ID))
			continue
		}
		ui.Say(fmt.Sprintf("keep_releases = %d: deleting %s (%s, %s)", keep, old.Name, old.ID, old.CreatedAt.UTC().Format(time.RFC3339)))
		if err := images.Delete(ctx, client, old.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return fmt.Errorf("keep_releases: deleting %s: %w", old.ID, err)
		}
	}
	return nil
}

// createAndUpload creates the record and sends the data, trying again
// after a dropped connection or a 5xx: on the same record while Glance
// still has it queued, else on a new one. Each record gets its ID from
// here, so that a record whose creation was cut off (a cancel) is deleted
// too.
func createAndUpload(ctx context.Context, ui packersdk.Ui, client *gophercloud.ServiceClient, opts images.CreateOpts, b *body, retries int, send sender) (*images.Image, error) {
	create := func() (*images.Image, error) {
		opts.ID = uuid.NewString()
		img, err := images.Create(ctx, client, opts).Extract()
		if err != nil {
			deleteImage(client, opts.ID, ui)
			return nil, fmt.Errorf("creating the image record: %w", err)
		}
		return img, nil
	}
	img, err := create()
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		err = send(ctx, img.ID, b)
		if err == nil {
			return img, nil
		}
		if ctx.Err() != nil || attempt >= retries || !retryable(err) {
			deleteImage(client, img.ID, ui)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("uploading: %w (the image record is deleted)", ctx.Err())
			}
			return nil, fmt.Errorf("uploading (attempt %d of %d): %w (the image record is deleted)", attempt+1, retries+1, err)
		}
		wait := time.Duration(1<<attempt) * time.Second
		ui.Error(fmt.Sprintf("Upload failed (%v); trying again in %s", err, wait))
		select {
		case <-ctx.Done():
			continue
		case <-time.After(wait):
		}
		if got, gerr := images.Get(ctx, client, img.ID).Extract(); gerr != nil || got.Status != images.ImageStatusQueued {
			deleteImage(client, img.ID, ui)
			if img, err = create(); err != nil {
				return nil, err
			}
		}
		if err := b.rewind(); err != nil {
			deleteImage(client, img.ID, ui)
			return nil, err
		}
	}
}

// retryable: a request that failed on its way (a dropped connection: a
// *url.Error), or a server error that may pass.
func retryable(err error) bool {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return true
	}
	for _, code := range []int{500, 502, 503, 504} {
		if gophercloud.ResponseCodeIs(err, code) {
			return true
		}
	}
	return false
}

// waitActive polls the image until it is active, or gone bad.
func waitActive(ctx context.Context, client *gophercloud.ServiceClient, id string) (*images.Image, error) {
	delay := 100 * time.Millisecond
	for {
		img, err := images.Get(ctx, client, id).Extract()
		if err != nil {
			return nil, fmt.Errorf("reading the image's status: %w", err)
		}
		if failed := fmt.Sprint(img.Properties["os_glance_failed_import"]); img.Properties["os_glance_failed_import"] != nil && failed != "" {
			return nil, fmt.Errorf("Glance's import failed in the stores %s", failed)
		}
		switch img.Status {
		case images.ImageStatusActive:
			return img, nil
		case images.ImageStatusKilled, images.ImageStatusDeleted, images.ImageStatusPendingDelete, images.ImageStatusDeactivated:
			return nil, fmt.Errorf("the image went %s instead of active", img.Status)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the image to become active (status %s): %w", img.Status, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// deleteImage removes an image record the run made, even when the build
// was cancelled.
func deleteImage(client *gophercloud.ServiceClient, id string, ui packersdk.Ui) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := images.Delete(ctx, client, id).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		ui.Error(fmt.Sprintf("Could not delete image %s: %v", id, err))
		return
	}
	log.Printf("deleted image %s", id)
}

// imagesNamed lists the project's images of that name, oldest first.
func imagesNamed(ctx context.Context, client *gophercloud.ServiceClient, name, project string) ([]images.Image, error) {
	var found []images.Image
	err := images.List(client, images.ListOpts{Name: name, Owner: project, SortKey: "created_at", SortDir: "asc"}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		list, err := images.ExtractImages(p)
		found = append(found, list...)
		return true, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing the images named %q: %w", name, err)
	}
	return found, nil
}

// projectID is the token's project: the owner of the images this run
// makes, and of those it may replace.
func projectID(client *gophercloud.ServiceClient) string {
	if r, ok := client.ProviderClient.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := r.ExtractProject(); err == nil && p != nil {
			return p.ID
		}
	}
	return ""
}
