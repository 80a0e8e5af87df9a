package glance

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCloud is a Keystone and a Glance v2 on loopback, as gophercloud
// tests itself: a token endpoint whose catalog points at the fake Glance,
// and the image routes the post-processor uses. The images are in a map;
// the hooks inject the faults the real Glance cannot be made to produce.
type fakeCloud struct {
	t       *testing.T
	srv     *httptest.Server
	project string // the token's project: the owner of the images made

	// Hooks, set before the run.
	//
	// onUpload sees the n-th upload (PUT .../file, from 1) before Glance
	// reads it; it returns true when it has answered (a fault).
	onUpload func(n int, w http.ResponseWriter, r *http.Request, id string) bool
	// afterUpload: the statuses an image reports, one a GET, after its
	// data is in; the last one stays. Unset: active at once.
	afterUpload []string
	// mangle changes what Glance reports of an image once its data is in
	// (a hash).
	mangle func(img *fakeImage)
	// fault sees each authenticated request before Glance handles it; a
	// code other than 0 is the answer instead (a 500, a 403).
	fault func(r *http.Request) int
	// cancelRun cancels the run's context (Ctrl-C), for a hook to call.
	cancelRun context.CancelFunc

	mu      sync.Mutex
	images  map[string]*fakeImage
	seq     int
	uploads int      // PUT .../file requests seen
	events  []string // what happened, in order: "create <name> <id>", "upload <id>", "active <id>", "rename <id> <name>", "protect <id> <bool>", "member <id> <project>", "delete <id>"
	imports []map[string]any
	polled  map[string][]string // the statuses each image reported to a GET
}

// fakeImage is an image record, and the data Glance holds for it.
type fakeImage struct {
	ID, Name, Status, Owner       string
	DiskFormat, ContainerFormat   string
	Visibility                    string
	Protected, Hidden             bool
	MinDisk, MinRAM               int
	Tags                          []string
	Props                         map[string]string
	CreatedAt                     time.Time
	Checksum, HashAlgo, HashValue string
	Size                          int64
	Data                          []byte // staged (glance-direct)
	Members                       []string
	pending                       []string
	seq                           int
}

const (
	fakeToken    = "fake-token"
	fakePassword = "secret"
)

func newFakeCloud(t *testing.T) *fakeCloud {
	t.Helper()
	f := &fakeCloud{t: t, project: "project-1", images: map[string]*fakeImage{}, polled: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/auth/tokens", f.token)
	mux.HandleFunc("GET /{$}", f.versions)
	mux.HandleFunc("POST /v2/images", f.authed(f.create))
	mux.HandleFunc("GET /v2/images", f.authed(f.list))
	mux.HandleFunc("GET /v2/images/{id}", f.authed(f.get))
	mux.HandleFunc("PATCH /v2/images/{id}", f.authed(f.patch))
	mux.HandleFunc("DELETE /v2/images/{id}", f.authed(f.delete))
	mux.HandleFunc("PUT /v2/images/{id}/file", f.authed(f.upload))
	mux.HandleFunc("PUT /v2/images/{id}/stage", f.authed(f.stage))
	mux.HandleFunc("POST /v2/images/{id}/import", f.authed(f.importData))
	mux.HandleFunc("POST /v2/images/{id}/members", f.authed(f.addMember))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	// No test waits seconds: the retries' and the polls' waits are short.
	savedRetry, savedPoll, savedMax := retryWait, pollInterval, pollMax
	retryWait, pollInterval, pollMax = time.Millisecond, time.Millisecond, 4*time.Millisecond
	t.Cleanup(func() { retryWait, pollInterval, pollMax = savedRetry, savedPoll, savedMax })
	return f
}

// token is Keystone's POST /v3/auth/tokens for the user "demo".
func (f *fakeCloud) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Auth struct {
			Identity struct {
				Password struct {
					User struct {
						Name     string `json:"name"`
						Password string `json:"password"`
					} `json:"user"`
				} `json:"password"`
			} `json:"identity"`
		} `json:"auth"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Auth.Identity.Password.User.Password != fakePassword {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": 401, "message": "The request you have made requires authentication."}})
		return
	}
	domain := map[string]any{"id": "default", "name": "Default"}
	w.Header().Set("X-Subject-Token", fakeToken)
	writeJSON(w, http.StatusCreated, map[string]any{"token": map[string]any{
		"methods":    []string{"password"},
		"expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"user":       map[string]any{"id": "user-1", "name": req.Auth.Identity.Password.User.Name, "domain": domain},
		"project":    map[string]any{"id": f.project, "name": "demo", "domain": domain},
		"catalog": []any{map[string]any{
			"id": "glance", "type": "image", "name": "glance",
			"endpoints": []any{map[string]any{"id": "glance-public", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": f.srv.URL}},
		}},
	}})
}

// versions is Glance's version document, which gophercloud reads to check
// that the catalog's endpoint serves the v2 API.
func (f *fakeCloud) versions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{
		map[string]any{"id": "v2.16", "status": "CURRENT", "links": []any{map[string]any{"rel": "self", "href": f.srv.URL + "/v2/"}}},
	}})
}

func (f *fakeCloud) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != fakeToken {
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		if f.fault != nil {
			if code := f.fault(r); code != 0 {
				http.Error(w, fmt.Sprintf("%d %s (a fault of the test)", code, http.StatusText(code)), code)
				return
			}
		}
		h(w, r)
	}
}

// seed puts an image in Glance, as an earlier build left it.
func (f *fakeCloud) seed(img fakeImage) *fakeImage {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := img
	i.ID = cmp.Or(i.ID, fmt.Sprintf("seeded-%d", len(f.images)+1))
	i.Owner = cmp.Or(i.Owner, f.project)
	i.Status = cmp.Or(i.Status, "active")
	i.DiskFormat, i.ContainerFormat, i.Visibility = cmp.Or(i.DiskFormat, "raw"), cmp.Or(i.ContainerFormat, "bare"), cmp.Or(i.Visibility, "private")
	f.seq++
	i.seq = f.seq
	f.images[i.ID] = &i
	return &i
}

// all is a copy of the images Glance holds, oldest first.
func (f *fakeCloud) all() []fakeImage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []fakeImage
	for _, img := range f.images {
		all = append(all, *img)
	}
	slices.SortFunc(all, func(a, b fakeImage) int { return cmp.Compare(a.seq, b.seq) })
	return all
}

// names is "name (status)" of each image Glance holds, oldest first.
func (f *fakeCloud) names() []string {
	var names []string
	for _, img := range f.all() {
		names = append(names, img.Name+" ("+img.Status+")")
	}
	return names
}

// ids is "id name" of each image Glance holds, oldest first.
func (f *fakeCloud) ids() []string {
	var ids []string
	for _, img := range f.all() {
		ids = append(ids, img.ID+" "+img.Name)
	}
	return ids
}

func (f *fakeCloud) eventLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *fakeCloud) uploadCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads
}

func (f *fakeCloud) setStatus(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if img := f.images[id]; img != nil {
		img.Status = status
	}
}

func (f *fakeCloud) create(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	str := func(k string) string { s, _ := req[k].(string); delete(req, k); return s }
	num := func(k string) int { n, _ := req[k].(float64); delete(req, k); return int(n) }
	flag := func(k string) bool { b, _ := req[k].(bool); delete(req, k); return b }
	img := &fakeImage{
		ID: str("id"), Name: str("name"), Status: "queued", Owner: f.project,
		DiskFormat: str("disk_format"), ContainerFormat: str("container_format"), Visibility: cmp.Or(str("visibility"), "shared"),
		MinDisk: num("min_disk"), MinRAM: num("min_ram"), Hidden: flag("os_hidden"), Protected: flag("protected"),
		Props: map[string]string{}, CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
	if tags, ok := req["tags"].([]any); ok {
		for _, tag := range tags {
			img.Tags = append(img.Tags, fmt.Sprint(tag))
		}
	}
	delete(req, "tags")
	for k, v := range req {
		img.Props[k] = fmt.Sprint(v)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if img.ID == "" {
		img.ID = fmt.Sprintf("generated-%d", f.seq+1)
	}
	if f.images[img.ID] != nil {
		http.Error(w, "409 Conflict: Image with identifier "+img.ID+" already exists!", http.StatusConflict)
		return
	}
	f.seq++
	img.seq = f.seq
	f.images[img.ID] = img
	f.events = append(f.events, "create "+img.Name+" "+img.ID)
	writeJSON(w, http.StatusCreated, img.json())
}

// list is GET /v2/images: name and owner filters, hidden images left out
// unless os_hidden=true, sorted by created_at; one page.
func (f *fakeCloud) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	var found []*fakeImage
	for _, img := range f.images {
		if (q.Has("name") && img.Name != q.Get("name")) || (q.Has("owner") && img.Owner != q.Get("owner")) || img.Hidden != (q.Get("os_hidden") == "true") {
			continue
		}
		found = append(found, img)
	}
	slices.SortFunc(found, func(a, b *fakeImage) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.seq, b.seq)) })
	if q.Get("sort_dir") == "desc" {
		slices.Reverse(found)
	}
	list := []any{}
	for _, img := range found {
		list = append(list, img.json())
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"images": list, "first": "/v2/images", "schema": "/v2/schemas/images"})
}

// found is the image of the request's {id}, or nil after a 404 answer.
// The caller holds f.mu.
func (f *fakeCloud) found(w http.ResponseWriter, r *http.Request) *fakeImage {
	img := f.images[r.PathValue("id")]
	if img == nil {
		http.Error(w, "404 Not Found", http.StatusNotFound)
	}
	return img
}

func (f *fakeCloud) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img := f.found(w, r)
	if img == nil {
		return
	}
	if len(img.pending) > 0 {
		img.Status, img.pending = img.pending[0], img.pending[1:]
		if img.Status == "active" {
			f.events = append(f.events, "active "+img.ID)
		}
	}
	f.polled[img.ID] = append(f.polled[img.ID], img.Status)
	writeJSON(w, http.StatusOK, img.json())
}

// patch is a JSON patch of the name or of protected.
func (f *fakeCloud) patch(w http.ResponseWriter, r *http.Request) {
	var ops []struct {
		Op, Path string
		Value    any
	}
	if r.Header.Get("Content-Type") != "application/openstack-images-v2.1-json-patch" || json.NewDecoder(r.Body).Decode(&ops) != nil {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	img := f.found(w, r)
	if img == nil {
		return
	}
	for _, op := range ops {
		switch {
		case op.Op == "replace" && op.Path == "/name":
			img.Name = fmt.Sprint(op.Value)
			f.events = append(f.events, "rename "+img.ID+" "+img.Name)
		case op.Op == "replace" && op.Path == "/protected":
			img.Protected = op.Value == true
			f.events = append(f.events, fmt.Sprintf("protect %s %v", img.ID, img.Protected))
		default:
			http.Error(w, "400 Bad Request: "+op.Op+" "+op.Path, http.StatusBadRequest)
			return
		}
	}
	writeJSON(w, http.StatusOK, img.json())
}

func (f *fakeCloud) delete(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img := f.images[r.PathValue("id")]
	switch {
	case img == nil:
		http.Error(w, "404 Not Found", http.StatusNotFound)
	case img.Protected:
		http.Error(w, "403 Forbidden: Image "+img.ID+" is protected and cannot be deleted.", http.StatusForbidden)
	default:
		delete(f.images, img.ID)
		f.events = append(f.events, "delete "+img.ID)
		w.WriteHeader(http.StatusNoContent)
	}
}

// upload is PUT .../file: the data goes in, and the image reports its
// hashes (then the statuses of afterUpload).
func (f *fakeCloud) upload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	f.uploads++
	n, img := f.uploads, f.images[id]
	f.mu.Unlock()
	if img == nil {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	if f.onUpload != nil && f.onUpload(n, w, r, id) {
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if img.Status != "queued" {
		http.Error(w, "409 Conflict: Image status transition from "+img.Status+" to saving is not allowed", http.StatusConflict)
		return
	}
	f.events = append(f.events, "upload "+id)
	f.dataIn(img, data)
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeCloud) stage(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	img := f.found(w, r)
	if img == nil {
		return
	}
	img.Data, img.Status = data, "uploading"
	f.events = append(f.events, "stage "+img.ID)
	w.WriteHeader(http.StatusNoContent)
}

// importData is the import API: glance-direct moves the staged data into
// the stores named.
func (f *fakeCloud) importData(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports = append(f.imports, req)
	img := f.found(w, r)
	if img == nil {
		return
	}
	if img.Status != "uploading" {
		http.Error(w, "409 Conflict: nothing staged", http.StatusConflict)
		return
	}
	stores := "default"
	if list, ok := req["stores"].([]any); ok {
		var names []string
		for _, s := range list {
			names = append(names, fmt.Sprint(s))
		}
		stores = strings.Join(names, ",")
	}
	img.Props["stores"] = stores
	f.events = append(f.events, "import "+img.ID)
	f.dataIn(img, img.Data)
	w.WriteHeader(http.StatusAccepted)
}

// addMember shares the image with a project: POST .../members.
func (f *fakeCloud) addMember(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Member string `json:"member"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Member == "" {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	img := f.found(w, r)
	if img == nil {
		return
	}
	if img.Visibility != "shared" {
		http.Error(w, "403 Forbidden: Only shared images have members.", http.StatusForbidden)
		return
	}
	img.Members = append(img.Members, req.Member)
	f.events = append(f.events, "member "+img.ID+" "+req.Member)
	now := time.Now().UTC().Format(time.RFC3339)
	writeJSON(w, http.StatusOK, map[string]any{"image_id": img.ID, "member_id": req.Member, "status": "pending", "created_at": now, "updated_at": now, "schema": "/v2/schemas/member"})
}

// dataIn: the image holds data; f.mu is held.
func (f *fakeCloud) dataIn(img *fakeImage, data []byte) {
	s, m := sha512.Sum512(data), md5.Sum(data)
	img.Size, img.Checksum, img.HashAlgo, img.HashValue = int64(len(data)), hex.EncodeToString(m[:]), "sha512", hex.EncodeToString(s[:])
	img.Data = nil
	if len(f.afterUpload) > 0 {
		img.Status, img.pending = "saving", slices.Clone(f.afterUpload)
	} else {
		img.Status = "active"
		f.events = append(f.events, "active "+img.ID)
	}
	if f.mangle != nil {
		f.mangle(img)
	}
}

// json is the image as Glance's API shows it: the properties at the top
// level.
func (img *fakeImage) json() map[string]any {
	m := map[string]any{}
	for k, v := range img.Props {
		m[k] = v
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var size any
	if img.Size > 0 {
		size = img.Size
	}
	tags := img.Tags
	if tags == nil {
		tags = []string{}
	}
	for k, v := range map[string]any{
		"id": img.ID, "name": img.Name, "status": img.Status, "owner": img.Owner,
		"disk_format": img.DiskFormat, "container_format": img.ContainerFormat, "visibility": img.Visibility,
		"protected": img.Protected, "os_hidden": img.Hidden, "min_disk": img.MinDisk, "min_ram": img.MinRAM,
		"tags": tags, "size": size, "virtual_size": nil,
		"checksum": orNil(img.Checksum), "os_hash_algo": orNil(img.HashAlgo), "os_hash_value": orNil(img.HashValue),
		"created_at": img.CreatedAt.Format(time.RFC3339), "updated_at": img.CreatedAt.Format(time.RFC3339),
		"self": "/v2/images/" + img.ID, "file": "/v2/images/" + img.ID + "/file", "schema": "/v2/schemas/image",
	} {
		m[k] = v
	}
	return m
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // a client gone away is the test's to see
}

// cancel is a Ctrl-C: it cancels the run's context.
func (f *fakeCloud) cancel() {
	f.mu.Lock()
	cancel := f.cancelRun
	f.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// image is a copy of the image of that ID, nil if Glance has none.
func (f *fakeCloud) image(id string) *fakeImage {
	f.mu.Lock()
	defer f.mu.Unlock()
	if img := f.images[id]; img != nil {
		c := *img
		return &c
	}
	return nil
}

// polledOf is the statuses the image reported, one a GET.
func (f *fakeCloud) polledOf(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.polled[id])
}
