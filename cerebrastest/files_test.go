package cerebrastest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// postForm sends a multipart form of fields (name → value; a name starting
// with '@' is a file part named without the '@', with filename "f.jsonl").
func postForm(t *testing.T, srv *cerebrastest.Server, fields [][2]string) (int, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		if name, ok := strings.CutPrefix(f[0], "@"); ok {
			w, _ := mw.CreateFormFile(name, "f.jsonl")
			_, _ = io.WriteString(w, f[1])
		} else {
			_ = mw.WriteField(f[0], f[1])
		}
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/files", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestFileUploadsAreChecked(t *testing.T) {
	srv, _ := setup(t)
	const ok = "{\"a\":1}\n{\"b\":2}\n"
	for _, tc := range []struct {
		name   string
		fields [][2]string
		status int
		want   string
	}{
		{"valid", [][2]string{{"purpose", "batch"}, {"@file", ok}}, 200, `"bytes":16`},
		{"no final newline", [][2]string{{"purpose", "batch"}, {"@file", `{"a":1}`}}, 200, `"bytes":7`},
		{"purpose not batch", [][2]string{{"purpose", "fine-tune"}, {"@file", ok}}, 422, `"loc":["body","purpose"]`},
		{"no purpose", [][2]string{{"@file", ok}}, 422, `purpose`},
		{"no file", [][2]string{{"purpose", "batch"}}, 422, `file`},
		{"CRLF", [][2]string{{"purpose", "batch"}, {"@file", "{\"a\":1}\r\n{\"b\":2}\r\n"}}, 400, `Line 1 ends with CRLF`},
		{"not JSON", [][2]string{{"purpose", "batch"}, {"@file", "{\"a\":1}\nnope\n"}}, 400, `Line 2 is not valid JSON`},
		{"blank line", [][2]string{{"purpose", "batch"}, {"@file", "{\"a\":1}\n\n{\"b\":2}\n"}}, 400, `Line 2 is empty`},
		{"not UTF-8", [][2]string{{"purpose", "batch"}, {"@file", "{\"a\":\"\xff\"}\n"}}, 400, `not valid UTF-8`},
		{"empty", [][2]string{{"purpose", "batch"}, {"@file", ""}}, 400, `The file is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postForm(t, srv, tc.fields)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %s; want %d with %q", status, body, tc.status, tc.want)
			}
			if status == 400 && !strings.Contains(body, `"type":"invalid_request_error"`) {
				t.Errorf("a 400 without the API's error shape: %s", body)
			}
		})
	}
	if n := len(srv.Files()); n != 2 {
		t.Errorf("%d files stored, want the 2 valid ones", n)
	}
}

// TestFileTooLarge: a file over the limit is refused with the API's error.
// (A body far over it is cut off with a 413, like any request over the body
// cap: TestBodyCap; not sent here, since a client still writing when the
// server closes may see the reset before the answer.)
func TestFileTooLarge(t *testing.T) {
	_, c := setup(t, cerebrastest.WithMaxFileBytes(1024))
	line := []byte("\"" + strings.Repeat("x", 61) + "\"\n") // 64 bytes
	for _, tc := range []struct {
		size   int64
		status int
		code   string
	}{
		{1024, 200, ""},
		{1024 + 64, 400, "file_too_large"},
	} {
		content := io.LimitReader(&repeatReader{line: line}, tc.size)
		f, err := c.Files.New(context.Background(), client.FileNewParams{File: content, Filename: "big.jsonl", Purpose: client.FilePurposeBatch},
			client.WithMaxRetries(0))
		var apiErr *client.APIError
		switch {
		case tc.status == 200 && (err != nil || f.Bytes != tc.size):
			t.Errorf("%d bytes: %+v, %v", tc.size, f, err)
		case tc.status != 200 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || apiErr.Code != tc.code):
			t.Errorf("%d bytes: err = %v, want %d %s", tc.size, err, tc.status, tc.code)
		}
	}
}

type repeatReader struct {
	line []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.line[r.off:])
	r.off = (r.off + n) % len(r.line)
	return n, nil
}

func TestFilesThroughTheSDK(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	f, err := c.Files.New(ctx, client.FileNewParams{File: strings.NewReader("{\"x\":1}\n"), Filename: "in.jsonl",
		Purpose: client.FilePurposeBatch, ExpiresAfter: map[string]any{"anchor": "created_at", "seconds": 3600}})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Files.Content(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "{\"x\":1}\n" {
		t.Errorf("content %q", b)
	}
	var resp *http.Response
	rc, err = c.Files.Content(ctx, f.ID, client.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	if _, err := c.Files.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Files()); n != 0 {
		t.Errorf("%d files left", n)
	}
}

// TestFilesExpire: a file is kept 7 days on the server's clock, then gone
// from retrieval, content, listing and batch creation alike.
func TestFilesExpire(t *testing.T) {
	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	srv, c := setup(t, cerebrastest.WithClock(clk))
	ctx := context.Background()
	old, err := c.Files.New(ctx, client.FileNewParams{File: strings.NewReader("{\"x\":1}\n"), Filename: "old.jsonl", Purpose: client.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := old.ExpiresAt-old.CreatedAt, int64(7*24*3600); got != want {
		t.Fatalf("kept %d s, want %d (7 days)", got, want)
	}
	clk.Advance(7*24*time.Hour - time.Second)
	if _, err := c.Files.Get(ctx, old.ID); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	fresh, err := c.Files.New(ctx, client.FileNewParams{File: strings.NewReader("{\"x\":1}\n"), Filename: "new.jsonl", Purpose: client.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	for name, call := range map[string]func() error{
		"Get":     func() error { _, err := c.Files.Get(ctx, old.ID); return err },
		"Content": func() error { _, err := c.Files.Content(ctx, old.ID); return err },
		"Delete":  func() error { _, err := c.Files.Delete(ctx, old.ID); return err },
		"Batches.New": func() error {
			_, err := c.Batches.New(ctx, client.BatchNewParams{InputFileID: old.ID, Endpoint: client.BatchEndpointChatCompletions, CompletionWindow: client.BatchCompletionWindowHours24})
			return err
		},
	} {
		if err := call(); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("%s of an expired file: %v, want ErrNotFound", name, err)
		}
	}
	if files := srv.Files(); len(files) != 1 || files[0].ID != fresh.ID {
		t.Errorf("the server holds %+v, want only %s", files, fresh.ID)
	}
	var listed []string
	for f, err := range c.Files.List(ctx, client.FileListParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, f.ID)
	}
	if len(listed) != 1 || listed[0] != fresh.ID {
		t.Errorf("List gives %v, want only %s", listed, fresh.ID)
	}
}
