package glance

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"regexp"
	"slices"
	"strings"
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

// The waits of an upload: before a retry (doubled at each), and between
// polls of the image's status (doubled up to pollMax). Variables so that
// the unit tests can shorten them.
var (
	retryWait    = time.Second
	pollInterval = 100 * time.Millisecond
	pollMax      = 2 * time.Second
)

// upload runs the whole post-processor: conflict check, record, data,
// then the rest (see complete). From the record's creation on, a failure
// undoes what the run did: the new image is deleted, and the images it
// renamed get their names back.
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
	r := &run{c: c, ui: ui, client: client, project: projectID(client)}
	if r.existing, err = imagesNamed(ctx, client, c.ImageName, r.project); err != nil {
		return nil, err
	}
	if len(r.existing) > 0 {
		switch c.OnConflict {
		case "error":
			return nil, fmt.Errorf("an image named %q exists in the project (%s): set on_conflict to replace, rename or keep", c.ImageName, r.existing[0].ID)
		case "keep":
			return r.keep()
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
	r.id = img.ID
	if err := r.complete(ctx, b, start); err != nil {
		return nil, r.undo(err)
	}
	return newArtifact(client, r.active, c.Region, true), nil
}

// run is one upload's state: the images of the name found before it, and,
// once the new image exists, what a failure has to undo.
type run struct {
	c        *Config
	ui       packersdk.Ui
	client   *gophercloud.ServiceClient
	project  string
	existing []images.Image // the project's images of the name, oldest first

	id         string         // the new image
	active     *images.Image  // its record once active and verified
	renamed    []images.Image // the images renamed, as they were
	protecting bool           // protected = true was asked for
}

// keep makes the existing image the artifact (on_conflict = keep), if it
// is one: an image of the name that is not active (a killed or queued
// leftover of a failed upload) is no image to build on, and hides that
// something went wrong. The artifact does not delete it on Destroy: this
// build did not make it.
func (r *run) keep() (*Artifact, error) {
	for _, img := range r.existing {
		if img.Status != images.ImageStatusActive {
			return nil, fmt.Errorf("on_conflict = keep: the image %q %s is %s, not active (a leftover of a failed upload?): delete it, or set on_conflict = replace", img.Name, img.ID, img.Status)
		}
	}
	old := r.existing[0]
	r.ui.Say(fmt.Sprintf("Image %q exists (%s): kept, nothing uploaded (on_conflict = keep)", r.c.ImageName, old.ID))
	return newArtifact(r.client, &old, r.c.Region, false), nil
}

// complete takes the uploaded image to the end: active and verified,
// shared, the conflict settled, the older releases rotated, protected.
// The order serves the rollback (undo): a rename is recorded before it is
// asked for, so that any failure after it, a cancel too, renames the old
// image back; protection is the last step that can fail, since a
// protected image cannot be deleted; replace's deletion of the old image,
// which nothing could undo, comes after it and only warns.
func (r *run) complete(ctx context.Context, b *body, start time.Time) error {
	uploaded := time.Since(start)
	img, err := waitActive(ctx, r.client, r.id)
	if err != nil {
		return err
	}
	r.active = img
	active := time.Since(start)
	sent, err := b.sums(property(img, "os_hash_algo"))
	if err != nil {
		return err
	}
	// The time the user waited: the record, the upload, and the hashes
	// that prove it.
	elapsed := time.Since(start)
	log.Printf("upload of %s: sent after %s, active after %s, hashed after %s", r.id, uploaded, active, elapsed)
	compared, err := verify(img, sent)
	if err != nil {
		return err
	}
	r.ui.Say(fmt.Sprintf("Image %s is active: %d MiB in %s (%.1f MiB/s), %s", img.ID, b.size>>20, elapsed.Round(time.Millisecond), float64(b.size)/(1<<20)/elapsed.Seconds(), compared))
	for _, m := range r.c.Members {
		if err := members.Create(ctx, r.client, r.id, m).Err; err != nil {
			return fmt.Errorf("members: sharing with %s: %w", m, err)
		}
		if r.c.ImageAutoAcceptMembers {
			if err := members.Update(ctx, r.client, r.id, m, members.UpdateOpts{Status: "accepted"}).Err; err != nil {
				return fmt.Errorf("image_auto_accept_members: accepting the membership of %s: %w", m, err)
			}
		}
	}
	if r.c.OnConflict == "rename" {
		if err := r.renameOld(ctx); err != nil {
			return err
		}
	}
	if r.c.KeepReleases > 0 {
		if err := rotate(ctx, r.ui, r.client, r.c.ImageName, r.project, r.c.KeepReleases); err != nil {
			return err
		}
	}
	if r.c.Protected {
		r.protecting = true
		if err := images.Update(ctx, r.client, r.id, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: true}}).Err; err != nil {
			return fmt.Errorf("protected: protecting the image: %w", err)
		}
	}
	if r.c.OnConflict == "replace" {
		r.replaceOld(ctx)
	}
	return nil
}

// renameOld gives each older image of the name a -<its creation time>
// suffix (on_conflict = rename).
func (r *run) renameOld(ctx context.Context) error {
	for _, old := range r.existing {
		name := r.c.ImageName + "-" + old.CreatedAt.UTC().Format("20060102T150405Z")
		r.ui.Say(fmt.Sprintf("Renaming the image %s to %q", old.ID, name))
		r.renamed = append(r.renamed, old)
		if err := images.Update(ctx, r.client, old.ID, images.UpdateOpts{images.ReplaceImageName{NewName: name}}).Err; err != nil {
			return fmt.Errorf("on_conflict = rename: renaming %s: %w", old.ID, err)
		}
	}
	return nil
}

// replaceOld deletes the older images of the name (on_conflict =
// replace). The new image is good: an old one that cannot go (protected)
// is a warning, not a reason to lose the new one.
func (r *run) replaceOld(ctx context.Context) {
	for _, old := range r.existing {
		r.ui.Say(fmt.Sprintf("Deleting the image it replaces, %s", old.ID))
		if err := images.Delete(ctx, r.client, old.ID).ExtractErr(); err != nil {
			r.ui.Error(fmt.Sprintf("Warning: on_conflict = replace: could not delete %s (protected?): %v", old.ID, err))
		}
	}
}

// undo is the rollback after the new image exists: it deletes the new
// image (unprotecting it first if protection was asked for: the request
// may have gone through before its answer was lost) and renames the
// images it renamed back, on contexts of their own since the run's may be
// cancelled. It returns the cause with what it did.
func (r *run) undo(cause error) error {
	var did []string
	if r.protecting {
		if err := r.update(r.id, images.ReplaceImageProtected{NewProtected: false}); err != nil {
			r.ui.Error(fmt.Sprintf("Could not unprotect image %s: %v", r.id, err))
		}
	}
	if err := removeImage(r.client, r.id); err != nil {
		r.ui.Error(fmt.Sprintf("Could not delete image %s: %v", r.id, err))
		did = append(did, fmt.Sprintf("deleting the new image %s failed too: %v", r.id, err))
	} else {
		did = append(did, "the image is deleted")
	}
	for _, old := range r.renamed {
		r.ui.Say(fmt.Sprintf("Renaming the image %s back to %q", old.ID, old.Name))
		if err := r.update(old.ID, images.ReplaceImageName{NewName: old.Name}); err != nil {
			r.ui.Error(fmt.Sprintf("Could not rename image %s back to %q: %v", old.ID, old.Name, err))
			did = append(did, fmt.Sprintf("renaming %s back to %q failed too: %v", old.ID, old.Name, err))
			continue
		}
		did = append(did, fmt.Sprintf("%s is named %q again", old.ID, old.Name))
	}
	return fmt.Errorf("%w; %s", cause, strings.Join(did, "; "))
}

// update patches an image during the rollback, on a context of its own.
func (r *run) update(id string, op images.Patch) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return images.Update(ctx, r.client, id, images.UpdateOpts{op}).Err
}

// verify compares what Glance says it holds with what was sent, and says
// what it compared: os_hash_value when os_hash_algo is one the body
// computed (sha512, Glance's default, or one of otherHashes), and checksum
// (md5). An
// image with nothing to compare fails the build: data nobody checked is
// what this post-processor is there to rule out, and every Glance since
// Rocky gives both (the md5 checksum always), so it means a Glance that
// does not say what it stored.
func verify(img *images.Image, sent sums) (string, error) {
	algo, value := property(img, "os_hash_algo"), property(img, "os_hash_value")
	var matched, notes []string
	switch want, known := sent.sha2[algo]; {
	case algo == "" || value == "":
		notes = append(notes, "Glance gave no os_hash_value")
	case !known:
		notes = append(notes, fmt.Sprintf("Glance gave os_hash_algo %s, not compared", algo))
	case value != want:
		return "", fmt.Errorf("Glance holds other data than was sent: os_hash_value (%s) %s, sent %s", algo, value, want)
	default:
		matched = append(matched, algo)
	}
	switch {
	case img.Checksum == "":
		notes = append(notes, "Glance gave no checksum")
	case img.Checksum != sent.md5:
		return "", fmt.Errorf("Glance holds other data than was sent: checksum (md5) %s, sent %s", img.Checksum, sent.md5)
	default:
		matched = append(matched, "md5")
	}
	if len(matched) == 0 {
		return "", fmt.Errorf("Glance gave no hash of image %s to compare with what was sent (%s): the upload is not verified", img.ID, strings.Join(notes, "; "))
	}
	said := strings.Join(matched, " and ") + " match"
	if len(matched) == 1 {
		said = matched[0] + " matches"
	}
	if len(notes) > 0 {
		said += " (" + strings.Join(notes, "; ") + ")"
	}
	return said, nil
}

// property is an image property as a string, "" when unset or null.
func property(img *images.Image, key string) string {
	s, _ := img.Properties[key].(string)
	return s
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
		wait := time.Duration(1<<attempt) * retryWait
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
		b.rewind()
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
	delay := pollInterval
	for {
		img, err := images.Get(ctx, client, id).Extract()
		if err != nil && ctx.Err() != nil {
			// The timeout, or a cancel, cut the read short.
			return nil, fmt.Errorf("waiting for the image to become active: %w", ctx.Err())
		}
		if err != nil {
			return nil, fmt.Errorf("reading the image's status: %w", err)
		}
		if failed := property(img, "os_glance_failed_import"); failed != "" {
			return nil, fmt.Errorf("Glance's import failed in the stores %s (os_glance_failed_import; status %s)", failed, img.Status)
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
		delay = min(2*delay, pollMax)
	}
}

// deleteImage removes an image record the run made, even when the build
// was cancelled, and says so when it cannot.
func deleteImage(client *gophercloud.ServiceClient, id string, ui packersdk.Ui) {
	if err := removeImage(client, id); err != nil {
		ui.Error(fmt.Sprintf("Could not delete image %s: %v", id, err))
	}
}

// removeImage deletes an image on a context of its own (the run's may be
// cancelled); one already gone is no error.
func removeImage(client *gophercloud.ServiceClient, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := images.Delete(ctx, client, id).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		return err
	}
	log.Printf("deleted image %s", id)
	return nil
}

// imagesNamed lists the project's images of that name (all of them for
// ""), oldest first. Hidden ones too: Glance leaves images with os_hidden
// out of a list unless asked for them alone, and a hidden image of the
// name conflicts, and rotates, like any other.
func imagesNamed(ctx context.Context, client *gophercloud.ServiceClient, name, project string) ([]images.Image, error) {
	var found []images.Image
	for _, hidden := range []bool{false, true} {
		opts := images.ListOpts{Name: name, Owner: project, Hidden: hidden, SortKey: "created_at", SortDir: "asc"}
		err := images.List(client, opts).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			list, err := images.ExtractImages(p)
			found = append(found, list...)
			return true, err
		})
		if err != nil {
			return nil, fmt.Errorf("listing the images named %q (os_hidden %v): %w", name, hidden, err)
		}
	}
	if project == "" {
		// A system-scoped token owns nothing, and sees every project's
		// images: only the owner-less ones, such as it uploads, are this
		// run's to replace, rename or rotate.
		found = slices.DeleteFunc(found, func(img images.Image) bool { return img.Owner != "" })
	}
	slices.SortStableFunc(found, func(a, b images.Image) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return found, nil
}

// projectID is the token's project: the owner of the images this run
// makes, and of those it may replace.
// A token given as such (OS_TOKEN) is looked up, not created: its result
// is a GetResult. "" for a system-scoped token.
func projectID(client *gophercloud.ServiceClient) string {
	var p *tokens.Project
	var err error
	switch r := client.GetAuthResult().(type) {
	case tokens.CreateResult:
		p, err = r.ExtractProject()
	case tokens.GetResult:
		p, err = r.ExtractProject()
	}
	if err != nil || p == nil {
		return ""
	}
	return p.ID
}
