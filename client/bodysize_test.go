package client

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// allocated returns the bytes allocated while f runs, in the whole process
// (the test server included). It bounds from above how much the heap grew,
// and unlike a sample of the heap it does not depend on when the collector
// runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkTooLarge checks that err is the typed error for a body over limit.
func checkTooLarge(t *testing.T, err error, limit int64) {
	t.Helper()
	var tl *ResponseTooLargeError
	if !errors.Is(err, ErrResponseTooLarge) || !errors.As(err, &tl) || tl.Limit != limit || tl.StatusCode != 200 {
		t.Fatalf("err = %v, want a *ResponseTooLargeError for the %d-byte limit", err, limit)
	}
	if msg := err.Error(); !strings.Contains(msg, "WithMaxResponseSize") || !strings.Contains(msg, formatBytes(limit)) {
		t.Errorf("Error() = %q: it should name the limit and the option that raises it", msg)
	}
}

// TestMaxResponseSize: a body up to the limit is read; one byte more, sent
// with a Content-Length or chunked, fails the call at once with the typed
// error (not retried); the call's option wins over the client's; an error
// body is cut at the limit and keeps its status.
func TestMaxResponseSize(t *testing.T) {
	const limit = 1000
	exact := chatJSON + strings.Repeat(" ", limit-len(chatJSON))
	over := exact + " "
	respond := func(body string, chunked bool) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "application/json")
			if !chunked {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
			_, _ = io.WriteString(w, body[:10])
			w.(http.Flusher).Flush() // without a Content-Length, chunked
			_, _ = io.WriteString(w, body[10:])
		}
	}
	ctx := context.Background()
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			srv := newServer(t, respond(exact, chunked))
			c, _ := newTestClient(t, srv, WithMaxResponseSize(limit))
			if _, err := c.Chat.Completions.New(ctx, chatParams()); err != nil {
				t.Fatalf("a body of exactly the limit: %v", err)
			}
			srv = newServer(t, respond(over, chunked))
			c, delays := newTestClient(t, srv, WithMaxResponseSize(limit))
			cc, err := c.Chat.Completions.New(ctx, chatParams())
			if cc != nil {
				t.Errorf("a value alongside the error: %+v", cc)
			}
			checkTooLarge(t, err, limit)
			if n := len(srv.requests()); n != 1 || len(*delays) != 0 {
				t.Errorf("%d requests, delays %v: a body over the limit must not be retried", n, *delays)
			}
			if _, err := c.Chat.Completions.New(ctx, chatParams(), WithMaxResponseSize(limit+1)); err != nil {
				t.Errorf("the call's larger limit should win: %v", err)
			}
			big, _ := newTestClient(t, srv)
			_, err = big.Chat.Completions.New(ctx, chatParams(), WithMaxResponseSize(limit))
			checkTooLarge(t, err, limit)
		})
	}
	t.Run("models", func(t *testing.T) {
		srv := newServer(t, okJSON(modelsJSON))
		c, _ := newTestClient(t, srv)
		_, err := c.Models.List(ctx, WithMaxResponseSize(int64(len(modelsJSON)-1)))
		checkTooLarge(t, err, int64(len(modelsJSON)-1))
	})
	t.Run("error body is cut at the limit", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("X-Request-Id", "req-big")
			writeJSON(w, 400, `{"error":{"message":"`+strings.Repeat("m", 4000)+`"}}`)
		})
		c, _ := newTestClient(t, srv, WithMaxResponseSize(limit))
		for name, call := range map[string]func() error{
			"call":   func() error { _, err := c.Chat.Completions.New(ctx, chatParams()); return err },
			"stream": func() error { _, err := c.Chat.Completions.NewStreaming(ctx, chatParams()); return err },
		} {
			var e *APIError
			if err := call(); !errors.As(err, &e) || e.StatusCode != 400 || !e.BodyTruncated || len(e.Body) != limit || e.RequestID != "req-big" {
				t.Errorf("%s: err %v, want the 400 with its body cut to %d bytes", name, err, limit)
			}
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, n := range []int64{0, -1} {
			if _, err := New(WithAPIKey("k"), WithoutEnvironment(), WithTCPWarming(false), WithMaxResponseSize(n)); err == nil {
				t.Errorf("WithMaxResponseSize(%d) accepted", n)
			}
		}
	})
}

// TestClaimedSizeIsNotAllocated: memory follows the bytes that arrive, not
// the Content-Length the server claims. Twenty responses that claim 63 MiB
// (under the default limit) and send one byte must not cost 20 × 63 MiB; and
// a claim over the limit fails at once, without waiting for the body.
func TestClaimedSizeIsNotAllocated(t *testing.T) {
	const claim = 63 << 20
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", claim)
		_ = buf.Flush()
		if strings.Contains(r.Header.Get("X-Test"), "silent") {
			_, _ = io.Copy(io.Discard, conn) // until the client hangs up
		}
	})
	c, _ := newTestClient(t, srv, WithMaxRetries(0))
	ctx := context.Background()
	got := allocated(func() {
		for range 20 {
			if _, err := c.Chat.Completions.New(ctx, chatParams()); err == nil {
				t.Fatal("a body cut short succeeded")
			}
		}
	})
	t.Logf("20 responses claiming %d MiB: %.1f MiB allocated", claim>>20, float64(got)/(1<<20))
	if got > 16<<20 {
		t.Errorf("20 responses that claim %d MiB and send 1 byte allocated %.1f MiB", claim>>20, float64(got)/(1<<20))
	}

	// The server sends the headers and then nothing: reading the body would
	// hang until the guard's timeout.
	guard, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := c.Chat.Completions.New(guard, chatParams(), WithMaxResponseSize(claim-1), WithHeader("X-Test", "silent"))
	checkTooLarge(t, err, claim-1)
}

// gzipBomb returns n gzip members of 1 MiB of zeros each: a few KiB that
// inflate to n MiB (a gzip reader reads concatenated members as one stream).
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 1<<20))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(member.Bytes(), n)
}

// TestGzipBombIsBounded: Go's transport asks for gzip and inflates the body
// transparently, so the limit must apply to the inflated bytes: a few KiB
// that inflate to 64 MiB cost about the limit, for success and error
// statuses alike.
func TestGzipBombIsBounded(t *testing.T) {
	const limit = 1 << 20
	bomb := gzipBomb(t, 64)
	for _, status := range []int{200, 500} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				w.WriteHeader(status)
				_, _ = w.Write(bomb)
			})
			c, _ := newTestClient(t, srv, WithMaxResponseSize(limit), WithMaxRetries(0))
			var err error
			got := allocated(func() { _, err = c.Chat.Completions.New(context.Background(), chatParams()) })
			t.Logf("%d KiB of gzip inflating to 64 MiB, limit 1 MiB: %.1f MiB allocated", len(bomb)>>10, float64(got)/(1<<20))
			if ae := srv.last().Header.Get("Accept-Encoding"); ae != "gzip" {
				t.Fatalf("the transport did not ask for gzip (Accept-Encoding %q): the test proves nothing", ae)
			}
			if status == 200 {
				checkTooLarge(t, err, limit)
			} else if e := (*APIError)(nil); !errors.As(err, &e) || !e.BodyTruncated {
				t.Errorf("err = %v, want the 500 with its body cut", err)
			}
			if got > 16*limit {
				t.Errorf("allocated %.1f MiB for a limit of 1 MiB", float64(got)/(1<<20))
			}
		})
	}
}

// TestDefaultMaxResponseSizeBoundsMemory: with default options, a server
// that streams an endless body costs about DefaultMaxResponseSize (at most a
// quarter more), not the body's size; the buffer's doubling cost 112 MiB. The server writes 256 MiB from one 64 KiB buffer and stops
// when the client hangs up.
func TestDefaultMaxResponseSizeBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 64 MiB over loopback")
	}
	const body = 256 << 20
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriterSize(w, 64<<10)
		_, _ = bw.WriteString(`{"id":"`)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < body; sent += len(chunk) {
			if _, err := bw.Write(chunk); err != nil {
				return
			}
		}
		_ = bw.Flush()
	})
	c, _ := newTestClient(t, srv)
	var err error
	got := allocated(func() { _, err = c.Chat.Completions.New(context.Background(), chatParams()) })
	t.Logf("a %d MiB body, default limit: %.1f MiB allocated", body>>20, float64(got)/(1<<20))
	checkTooLarge(t, err, DefaultMaxResponseSize)
	if bound := DefaultMaxResponseSize + DefaultMaxResponseSize/4; got > uint64(bound) {
		t.Errorf("allocated %.1f MiB for a limit of %d MiB", float64(got)/(1<<20), DefaultMaxResponseSize>>20)
	}
}

// FuzzReadAtMost: whatever the body, limit, claimed size and read sizes,
// readAtMost returns the whole body when it fits and exactly its first
// limit bytes otherwise, in a buffer never larger than limit+1.
func FuzzReadAtMost(f *testing.F) {
	for _, s := range []struct {
		data  string
		limit int64
		hint  int64
	}{{"", 0, -1}, {"x", 0, 1}, {"x", 1, 1}, {"xy", 1, 0}, {strings.Repeat("a", 600), 513, -1}, {strings.Repeat("a", 1024), 1024, 1 << 40}, {"abc", 2, 1}} {
		f.Add([]byte(s.data), s.limit, s.hint, false)
		f.Add([]byte(s.data), s.limit, s.hint, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, limit, hint int64, oneByte bool) {
		if limit < 0 {
			limit = -limit
		}
		if limit < 0 { // math.MinInt64
			limit = 0
		}
		var r io.Reader = bytes.NewReader(data)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		b, over, err := readAtMost(r, limit, hint, true)
		if err != nil {
			t.Fatal(err)
		}
		if fits := int64(len(data)) <= limit; over == fits || !bytes.Equal(b, data[:min(int64(len(data)), limit)]) {
			t.Fatalf("len %d, limit %d: got %d bytes, over %v", len(data), limit, len(b), over)
		}
		if int64(cap(b)) > limit+1 && cap(b) > 0 {
			t.Fatalf("limit %d: buffer of %d bytes", limit, cap(b))
		}
	})
}
