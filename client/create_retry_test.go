package client

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const batchJSON = `{"id":"batch_1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file-1","completion_window":"24h","status":"validating","created_at":1,"request_counts":{"total":0,"completed":0,"failed":0}}`

func batchParams() BatchNewParams {
	return BatchNewParams{InputFileID: "file-1", Endpoint: BatchEndpointChatCompletions, CompletionWindow: BatchCompletionWindowHours24}
}

// TestCreatesAreRetriedOnlyWhenTheyCannotHaveActed: Batches.New is sent
// again after a 429 or an x-should-retry: true, which say nothing was
// done, but not after a 5xx, a reset or a 200 whose body was cut, all of
// which may come after the batch was made: a second batch would spend the
// quota twice. (Every one of them used to be retried.)
func TestCreatesAreRetriedOnlyWhenTheyCannotHaveActed(t *testing.T) {
	tests := []struct {
		name  string
		first func(w http.ResponseWriter)
		sent  int // requests the server receives
	}{
		{"429", func(w http.ResponseWriter) { writeJSON(w, 429, `{"error":{"message":"slow down"}}`) }, 2},
		{"503 with x-should-retry", func(w http.ResponseWriter) {
			w.Header().Set("X-Should-Retry", "true")
			writeJSON(w, 503, `{"error":{"message":"busy"}}`)
		}, 2},
		{"500", func(w http.ResponseWriter) { writeJSON(w, 500, `{"error":{"message":"oops"}}`) }, 1},
		{"503", func(w http.ResponseWriter) { writeJSON(w, 503, `{"error":{"message":"busy"}}`) }, 1},
		{"a reset after the request", func(w http.ResponseWriter) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
		}, 1},
		{"a 200 whose body is cut", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, batchJSON[:20])
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					tt.first(w)
					return
				}
				writeJSON(w, 200, batchJSON)
			})
			c, delays := newTestClient(t, srv)
			b, err := c.Batches.New(context.Background(), batchParams())
			if got := len(srv.requests()); got != tt.sent {
				t.Fatalf("the server received %d requests, want %d (err %v)", got, tt.sent, err)
			}
			switch {
			case tt.sent == 2 && (err != nil || b.ID != "batch_1" || len(*delays) != 1):
				t.Errorf("retried: %v, %v, delays %v", b, err, *delays)
			case tt.sent == 1 && err == nil:
				t.Error("no error, though the create failed and was not retried")
			case tt.sent == 1 && errors.Is(err, ErrNotReplayed):
				t.Errorf("err = %v: the body could be sent again; the create was not, as it may have acted", err)
			}
		})
	}
}

// TestUploadCutWhileSendingIsRetried: an upload the server cut off before
// it had all of it cannot have been stored, so it is sent again from its
// replayable source.
func TestUploadCutWhileSendingIsRetried(t *testing.T) {
	content := strings.Repeat(`{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{}}`+"\n", 100_000) // ~7 MB: more than the socket buffers
	var mu sync.Mutex
	var got []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(got)
		got = append(got, 0)
		mu.Unlock()
		if n == 0 { // read a little, then cut the connection mid-upload
			_, _ = io.ReadFull(r.Body, make([]byte, 1024))
			conn, _, _ := w.(http.Hijacker).Hijack()
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
			return
		}
		size, _ := io.Copy(io.Discard, bufio.NewReader(r.Body))
		mu.Lock()
		got[n] = int(size)
		mu.Unlock()
		writeJSON(w, 200, `{"id":"file-1","object":"file","bytes":1,"created_at":1,"filename":"r.jsonl","purpose":"batch"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	recordDelays(c)
	f, err := c.Files.New(context.Background(), FileNewParams{File: strings.NewReader(content), Filename: "r.jsonl", Purpose: FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if f.ID != "file-1" || len(got) != 2 || got[1] < len(content) {
		t.Errorf("file %q; attempts %v, want 2, the second with the whole %d bytes", f.ID, got, len(content))
	}
}
