package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

// newFake returns the fake API, validating against the repository's
// openapi.yaml, and a client for it that records retry delays instead of
// sleeping them.
func newFake(t *testing.T, opts ...Option) (*cerebrastest.Server, *Client) {
	t.Helper()
	fake := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
	base := []Option{WithAPIKey(testKey), WithBaseURL(fake.URL), WithoutEnvironment(), WithTCPWarming(false)}
	c, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { _ = c.Close() })
	return fake, c
}

const batchJSONL = `{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-oss-120b","messages":[{"role":"user","content":"Hi"}]}}
{"custom_id":"r2","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-oss-120b","messages":[{"role":"user","content":"Bye"}]}}
`

func uploadJSONL(t *testing.T, c *Client, name, content string) *FileObject {
	t.Helper()
	f, err := c.Files.New(context.Background(), FileNewParams{File: strings.NewReader(content), Filename: name, Purpose: FilePurposeBatch})
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return f
}

// countOps counts the requests the fake received per "METHOD path".
func countOps(fake *cerebrastest.Server, method, path string) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestFilesEndpoints(t *testing.T) {
	fake, c := newFake(t)
	ctx := context.Background()

	f := uploadJSONL(t, c, "requests.jsonl", batchJSONL)
	if f.ID == "" || f.Object != "file" || f.Filename != "requests.jsonl" || f.Bytes != int64(len(batchJSONL)) ||
		f.Purpose != FilePurposeBatch || f.CreatedAt == 0 || f.ExpiresAt != f.CreatedAt+7*24*3600 {
		t.Errorf("uploaded %+v", f)
	}
	// The wire: one multipart form, purpose before the file, the file's name and bytes as given.
	req := fake.Requests()[0]
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q", req.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, fmt.Sprintf("%s %q %q", p.FormName(), p.FileName(), b))
	}
	if want := []string{`purpose "" "batch"`, fmt.Sprintf("file %q %q", "requests.jsonl", batchJSONL)}; fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Errorf("parts %q, want %q", parts, want)
	}
	if enc := req.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q", enc)
	}

	got, err := c.Files.Get(ctx, f.ID)
	if err != nil || *got != *f {
		t.Errorf("Get = %+v, %v; want %+v", got, err, f)
	}

	rc, err := c.Files.Content(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != batchJSONL {
		t.Errorf("Content = %q, %v", b, err)
	}
	if last := fake.Requests()[len(fake.Requests())-1]; last.Header.Get("Accept") != "application/x-ndjson" {
		t.Errorf("Content sent Accept %q", last.Header.Get("Accept"))
	}

	var ids []string
	for f, err := range c.Files.List(ctx, FileListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	if len(ids) != 1 || ids[0] != f.ID {
		t.Errorf("List = %v", ids)
	}

	del, err := c.Files.Delete(ctx, f.ID)
	if err != nil || del.ID != f.ID || !del.Deleted || del.Object != "file" {
		t.Errorf("Delete = %+v, %v", del, err)
	}
	for name, call := range map[string]func() error{
		"Get":     func() error { _, err := c.Files.Get(ctx, f.ID); return err },
		"Delete":  func() error { _, err := c.Files.Delete(ctx, f.ID); return err },
		"Content": func() error { _, err := c.Files.Content(ctx, f.ID); return err },
	} {
		err := call()
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !errors.Is(err, ErrNotFound) || apiErr.Code != "file_not_found" {
			t.Errorf("%s of a deleted file: %v, want the API's 404", name, err)
		}
	}
}

func TestFilesRefusedBeforeSending(t *testing.T) {
	fake, c := newFake(t)
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"nil File": func() error {
			_, err := c.Files.New(ctx, FileNewParams{Filename: "a.jsonl", Purpose: FilePurposeBatch})
			return err
		},
		"empty Filename": func() error {
			_, err := c.Files.New(ctx, FileNewParams{File: strings.NewReader("{}\n"), Purpose: FilePurposeBatch})
			return err
		},
		"Get ..":       func() error { _, err := c.Files.Get(ctx, ".."); return err },
		"Delete empty": func() error { _, err := c.Files.Delete(ctx, ""); return err },
		"Content .":    func() error { _, err := c.Files.Content(ctx, "."); return err },
	} {
		var pe *ParamError
		if err := call(); !errors.As(err, &pe) || !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v, want a *ParamError", name, err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestFilesListPagesLazily: List walks every page through after/has_more,
// and asks for a page only when the loop reaches it.
func TestFilesListPagesLazily(t *testing.T) {
	fake, c := newFake(t)
	ctx := context.Background()
	for i := range 7 {
		uploadJSONL(t, c, fmt.Sprintf("f%d.jsonl", i), batchJSONL)
	}
	var want []string
	for _, f := range fake.Files() {
		want = append(want, f.ID)
	}

	var got []string
	for f, err := range c.Files.List(ctx, FileListParams{Limit: Int(2)}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	var queries []string
	for _, r := range fake.Requests() {
		if r.Method == "GET" && r.Path == "/v1/files" {
			queries = append(queries, r.RawQuery)
		}
	}
	wantQ := []string{"limit=2", "limit=2&after=" + want[1], "limit=2&after=" + want[3], "limit=2&after=" + want[5]}
	if fmt.Sprint(queries) != fmt.Sprint(wantQ) {
		t.Errorf("pages asked for %q, want %q", queries, wantQ)
	}

	// Breaking in the second page: two pages fetched, no third.
	before := countOps(fake, "GET", "/v1/files")
	n := 0
	for _, err := range c.Files.List(ctx, FileListParams{Limit: Int(2)}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	if pages := countOps(fake, "GET", "/v1/files") - before; pages != 2 {
		t.Errorf("breaking after 3 files fetched %d pages, want 2", pages)
	}

	// A failing page yields its error once and ends the loop.
	fake.Enqueue(cerebrastest.Response{Path: "/v1/files", Status: 400, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `{"error":{"message":"bad page","type":"invalid_request_error","param":null,"code":"bad"}}`})
	var errs int
	for f, err := range c.Files.List(ctx, FileListParams{}) {
		if err == nil || f != nil || !errors.Is(err, ErrBadRequest) {
			t.Errorf("got %v, %v; want the page's 400", f, err)
		}
		errs++
	}
	if errs != 1 {
		t.Errorf("%d errors yielded, want 1", errs)
	}
}

// readerAtOnly hides every method of a *strings.Reader but ReadAt (and Read).
type readerAtOnly struct{ r *strings.Reader }

func (r readerAtOnly) Read(p []byte) (int, error)              { return r.r.Read(p) }
func (r readerAtOnly) ReadAt(p []byte, off int64) (int, error) { return r.r.ReadAt(p, off) }

// plainReader is an io.Reader and nothing else.
type plainReader struct{ r io.Reader }

func (r plainReader) Read(p []byte) (int, error) { return r.r.Read(p) }

// TestFilesUploadRetry: an upload that meets a 429 (which a create may
// retry: it cannot have taken effect) is sent again, whole, when its source
// can be read again, and otherwise fails at once saying why.
func TestFilesUploadRetry(t *testing.T) {
	serverError := cerebrastest.ErrorResponse(429, "rate_limit_error", "too_many_requests", "Injected.")
	serverError.Path = "/v1/files"

	for name, params := range map[string]FileNewParams{
		"Seeker":   {File: strings.NewReader("skip" + batchJSONL)}, // positioned after "skip" below
		"ReaderAt": {File: readerAtOnly{strings.NewReader(batchJSONL)}},
		"Reopen": {File: plainReader{strings.NewReader(batchJSONL)},
			Reopen: func() (io.Reader, error) { return io.NopCloser(strings.NewReader(batchJSONL)), nil }},
		"Reopen only": {Reopen: func() (io.Reader, error) { return strings.NewReader(batchJSONL), nil }},
	} {
		t.Run(name, func(t *testing.T) {
			fake, c := newFake(t)
			if s, ok := params.File.(io.Seeker); ok { // a Seeker rewinds to where it was, not to 0
				_, _ = s.Seek(4, io.SeekStart)
			}
			fake.Enqueue(serverError)
			params.Filename, params.Purpose = "r.jsonl", FilePurposeBatch
			f, err := c.Files.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests()
			if len(reqs) != 2 || !bytes.Equal(reqs[0].Body, reqs[1].Body) || reqs[1].Header.Get("X-Stainless-Retry-Count") != "1" {
				t.Fatalf("%d attempts; want 2 with the same body", len(reqs))
			}
			if f.Bytes != int64(len(batchJSONL)) || !bytes.Contains(reqs[1].Body, []byte("\r\n\r\n"+batchJSONL+"\r\n--")) {
				t.Errorf("stored %d bytes, want %d: the file part of the retry holds %q", f.Bytes, len(batchJSONL), reqs[1].Body)
			}
		})
	}

	t.Run("plain io.Reader", func(t *testing.T) {
		fake, c := newFake(t)
		fake.Enqueue(serverError)
		_, err := c.Files.New(context.Background(), FileNewParams{File: plainReader{strings.NewReader(batchJSONL)}, Filename: "r.jsonl", Purpose: FilePurposeBatch})
		var nr *NotReplayedError
		var apiErr *APIError
		if !errors.As(err, &nr) || !errors.Is(err, ErrNotReplayed) || !errors.As(err, &apiErr) || apiErr.StatusCode != 429 ||
			!errors.Is(err, ErrRateLimit) || !strings.Contains(err.Error(), "cannot be read again") {
			t.Fatalf("err = %v; want a *NotReplayedError around the 429", err)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})

	t.Run("plain io.Reader, connection reset after the upload arrived", func(t *testing.T) {
		fake, c := newFake(t)
		_, err := c.Files.New(context.Background(), FileNewParams{File: plainReader{strings.NewReader(batchJSONL)}, Filename: "r.jsonl", Purpose: FilePurposeBatch},
			WithHeader(cerebrastest.FaultHeader, "reset-once"))
		var ce *ConnectionError
		if errors.Is(err, ErrNotReplayed) || !errors.As(err, &ce) || ce.Attempts != 1 {
			t.Fatalf("err = %v; want the *ConnectionError alone: the upload arrived whole, so it may have been stored", err)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})

	t.Run("plain io.Reader, no retries asked", func(t *testing.T) {
		fake, c := newFake(t, WithMaxRetries(0))
		fake.Enqueue(serverError)
		_, err := c.Files.New(context.Background(), FileNewParams{File: plainReader{strings.NewReader(batchJSONL)}, Filename: "r.jsonl", Purpose: FilePurposeBatch})
		if !errors.Is(err, ErrRateLimit) || errors.Is(err, ErrNotReplayed) {
			t.Fatalf("err = %v; want the 429 alone: no retry was due", err)
		}
	})

	t.Run("source read error", func(t *testing.T) {
		fake, c := newFake(t)
		boom := errors.New("disk on fire")
		src := io.MultiReader(strings.NewReader(batchJSONL), iotestErrReader{boom})
		_, err := c.Files.New(context.Background(), FileNewParams{File: src, Filename: "r.jsonl", Purpose: FilePurposeBatch})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "reading params.File") {
			t.Fatalf("err = %v; want the source's error", err)
		}
		if n := len(fake.Files()); n != 0 {
			t.Errorf("%d files stored", n)
		}
	})
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// TestFilesContentStreams: Content returns while the server is still
// sending, and the response size limit does not cut it.
func TestFilesContentStreams(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = io.WriteString(w, "{\"line\":1}\n")
		w.(http.Flusher).Flush()
		select { // the rest only once the client has read the first line
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, strings.Repeat("{\"line\":2}\n", 1000))
	}))
	defer srv.Close()
	c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false), WithMaxResponseSize(1024))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.Files.Content(context.Background(), "file-1")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	line, err := br.ReadString('\n')
	if err != nil || line != "{\"line\":1}\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || len(rest) != 11*1000 {
		t.Errorf("read %d more bytes (%v), want %d: past the 1 KiB response limit", len(rest), err, 11*1000)
	}
}

// jsonlStream generates n bytes of JSONL, whole lines, without holding them.
type jsonlStream struct {
	block []byte
	left  int64
	off   int
}

func newJSONLStream(n int64) *jsonlStream {
	var b bytes.Buffer
	for i := 0; b.Len() < 64<<10; i++ {
		fmt.Fprintf(&b, `{"custom_id":"r%06d","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-oss-120b","messages":[{"role":"user","content":"Hi"}]}}`+"\n", i)
	}
	blocks := (n + int64(b.Len()) - 1) / int64(b.Len())
	return &jsonlStream{block: b.Bytes(), left: blocks * int64(b.Len())}
}

func (s *jsonlStream) size() int64 { return s.left }

func (s *jsonlStream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), s.left)], s.block[s.off:])
	s.off = (s.off + n) % len(s.block)
	s.left -= int64(n)
	return n, nil
}

// TestFilesMemoryIsFlat uploads and downloads a 100 MiB generated JSONL
// stream and checks that the process allocates a small fraction of it: the
// SDK streams both ways. The server here discards the upload and generates
// the download, so what is measured is the SDK's side (and the HTTP stacks').
func TestFilesMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MiB")
	}
	const size = 100 << 20
	var uploaded int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "POST":
			mr, err := r.MultipartReader()
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				n, _ := io.Copy(io.Discard, p)
				if p.FormName() == "file" {
					uploaded = n
				}
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"file-big","object":"file","filename":"big.jsonl","bytes":%d,"purpose":"batch","created_at":1}`, uploaded)
		default:
			w.Header().Set("Content-Type", "application/x-ndjson")
			_, _ = io.Copy(w, newJSONLStream(size))
		}
	}))
	defer srv.Close()
	c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	src := newJSONLStream(size)
	want := src.size()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	f, err := c.Files.New(ctx, FileNewParams{File: src, Filename: "big.jsonl", Purpose: FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Files.Content(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}

	runtime.ReadMemStats(&after)
	if f.Bytes != want || got != want {
		t.Fatalf("uploaded %d, downloaded %d bytes; want %d", f.Bytes, got, want)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("moved 2 × %d MiB; allocated %.2f MiB in all (client, server and HTTP stacks), heap in use %+.2f MiB",
		want>>20, float64(alloc)/(1<<20), (float64(after.HeapInuse)-float64(before.HeapInuse))/(1<<20))
	// Buffering either way would allocate at least the 100 MiB; streaming
	// allocates a few small buffers per direction.
	if alloc > 8<<20 {
		t.Errorf("allocated %d bytes while moving 2 × %d: something buffers the body", alloc, want)
	}
}
