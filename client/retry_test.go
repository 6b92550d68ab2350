package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRetryStatuses(t *testing.T) {
	cases := []struct {
		status      int
		shouldRetry string
		attempts    int
	}{
		{400, "", 1}, {401, "", 1}, {402, "", 1}, {403, "", 1}, {404, "", 1}, {422, "", 1},
		{408, "", 3}, {409, "", 3}, {429, "", 3}, {500, "", 3}, {502, "", 3}, {503, "", 3}, {504, "", 3},
		{400, "true", 3}, {500, "false", 1}, {429, "false", 1}, {503, "maybe", 3},
		// The header's value is a boolean in any case, with any spacing.
		{500, "FALSE", 1}, {429, "False", 1}, {503, " false\t", 1}, {400, "TRUE", 3}, {422, "True", 3},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status)+"/"+tc.shouldRetry, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tc.shouldRetry != "" {
					w.Header().Set("X-Should-Retry", tc.shouldRetry)
				}
				writeJSON(w, tc.status, `{"error":{"message":"nope"}}`)
			})
			c, delays := newTestClient(t, srv)
			_, err := c.Chat.Completions.New(context.Background(), chatParams())
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status {
				t.Fatalf("err = %v", err)
			}
			reqs := srv.requests()
			if len(reqs) != tc.attempts {
				t.Fatalf("%d attempts, want %d", len(reqs), tc.attempts)
			}
			for i, r := range reqs {
				if got := r.Header.Get("X-Stainless-Retry-Count"); got != strconv.Itoa(i) {
					t.Errorf("attempt %d sent retry count %q", i, got)
				}
			}
			if tc.attempts == 3 && (len(*delays) != 2 || (*delays)[0] != 500*time.Millisecond || (*delays)[1] != time.Second) {
				t.Errorf("backoff delays %v, want [500ms 1s] without jitter", *delays)
			}
		})
	}
}

func TestRetryDelayTable(t *testing.T) {
	now := time.Unix(1696004797, 0)
	date := func(d time.Duration) string { return now.Add(d).UTC().Format(http.TimeFormat) }
	noJitter := func() float64 { return 0 }
	cases := []struct {
		name    string
		headers map[string]string
		attempt int
		want    time.Duration
		retry   bool
	}{
		{"retry-after 20", map[string]string{"Retry-After": "20"}, 0, 20 * time.Second, true},
		{"retry-after 0 backs off", map[string]string{"Retry-After": "0"}, 0, 500 * time.Millisecond, true},
		{"retry-after -10 backs off", map[string]string{"Retry-After": "-10"}, 0, 500 * time.Millisecond, true},
		{"retry-after 60 at the cap", map[string]string{"Retry-After": "60"}, 0, 60 * time.Second, true},
		{"retry-after 61 over the cap", map[string]string{"Retry-After": "61"}, 0, 61 * time.Second, false},
		{"retry-after 1.5", map[string]string{"Retry-After": "1.5"}, 0, 1500 * time.Millisecond, true},
		{"date 20s ahead", map[string]string{"Retry-After": date(20 * time.Second)}, 0, 20 * time.Second, true},
		{"date in the past", map[string]string{"Retry-After": date(-10 * time.Second)}, 0, 500 * time.Millisecond, true},
		{"date 60s ahead", map[string]string{"Retry-After": date(60 * time.Second)}, 0, 60 * time.Second, true},
		{"date 61s ahead", map[string]string{"Retry-After": date(61 * time.Second)}, 0, 61 * time.Second, false},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0, 500 * time.Millisecond, true},
		{"none, first retry", nil, 0, 500 * time.Millisecond, true},
		{"none, second retry", nil, 1, time.Second, true},
		{"none, third retry", nil, 2, 2 * time.Second, true},
		{"none, capped at 8s", nil, 1000, 8 * time.Second, true},
		{"retry-after-ms wins", map[string]string{"Retry-After-Ms": "250", "Retry-After": "20"}, 0, 250 * time.Millisecond, true},
		{"retry-after-ms fractional", map[string]string{"Retry-After-Ms": "1.5"}, 0, 1500 * time.Microsecond, true},
		{"retry-after-ms 0 yields to retry-after", map[string]string{"Retry-After-Ms": "0", "Retry-After": "3"}, 0, 3 * time.Second, true},
		{"retry-after-ms garbage", map[string]string{"Retry-After-Ms": "x"}, 0, 500 * time.Millisecond, true},
		{"retry-after-ms over the cap", map[string]string{"Retry-After-Ms": "60001"}, 0, 60001 * time.Millisecond, false},
		// However large the delay is written, it stays above the cap: values
		// beyond a Duration saturate instead of being dropped for the backoff.
		{"retry-after 1e9 over the cap", map[string]string{"Retry-After": "1e9"}, 0, 1e9 * time.Second, false},
		{"retry-after 99999999999 saturates", map[string]string{"Retry-After": "99999999999"}, 0, maxDuration, false},
		{"retry-after 1e308 saturates", map[string]string{"Retry-After": "1e308"}, 0, maxDuration, false},
		{"retry-after Infinity saturates", map[string]string{"Retry-After": "Infinity"}, 0, maxDuration, false},
		{"retry-after +Inf saturates", map[string]string{"Retry-After": "+Inf"}, 0, maxDuration, false},
		{"retry-after -Inf backs off", map[string]string{"Retry-After": "-Inf"}, 0, 500 * time.Millisecond, true},
		{"retry-after -1e308 backs off", map[string]string{"Retry-After": "-1e308"}, 0, 500 * time.Millisecond, true},
		{"retry-after NaN backs off", map[string]string{"Retry-After": "NaN"}, 0, 500 * time.Millisecond, true},
		{"date in year 9999", map[string]string{"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, 0, maxDuration, false},
		{"retry-after-ms 1e15 saturates", map[string]string{"Retry-After-Ms": "1e15"}, 0, maxDuration, false},
		{"retry-after-ms 1e308 saturates", map[string]string{"Retry-After-Ms": "1e308"}, 0, maxDuration, false},
		{"retry-after-ms Infinity saturates", map[string]string{"Retry-After-Ms": "Infinity"}, 0, maxDuration, false},
		{"retry-after-ms 1e15 wins over a short retry-after", map[string]string{"Retry-After-Ms": "1e15", "Retry-After": "1"}, 0, maxDuration, false},
		{"retry-after-ms NaN yields to retry-after", map[string]string{"Retry-After-Ms": "NaN", "Retry-After": "2"}, 0, 2 * time.Second, true},
		{"retry-after-ms -Inf yields to retry-after", map[string]string{"Retry-After-Ms": "-Inf", "Retry-After": "2"}, 0, 2 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			d, retry := retryDelay(h, tc.attempt, DefaultMaxRetryDelay, now, noJitter)
			if d != tc.want || retry != tc.retry {
				t.Errorf("delay %s retry %v, want %s %v", d, retry, tc.want, tc.retry)
			}
		})
	}
}

// maxDuration is the largest Duration, where a server's delay saturates.
const maxDuration = time.Duration(math.MaxInt64)

func TestBackoffJitterBounds(t *testing.T) {
	for attempt := range 6 {
		full := backoff(attempt, func() float64 { return 0 })
		low := backoff(attempt, func() float64 { return 0.9999999 })
		if full != min(500*time.Millisecond<<attempt, 8*time.Second) {
			t.Errorf("attempt %d: no-jitter delay %s", attempt, full)
		}
		if low < full*3/4 || low > full {
			t.Errorf("attempt %d: max-jitter delay %s outside [%s, %s]", attempt, low, full*3/4, full)
		}
		for range 100 {
			d := backoff(attempt, defaultJitter)
			if d < full*3/4 || d > full {
				t.Fatalf("attempt %d: jittered delay %s outside [%s, %s]", attempt, d, full*3/4, full)
			}
		}
	}
}

func TestRetryHonoursServerDelayAndCap(t *testing.T) {
	t.Run("delay used", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				w.Header().Set("Retry-After-Ms", "1234")
				writeJSON(w, 429, `{"error":{"message":"slow down"}}`)
				return
			}
			writeJSON(w, 200, chatJSON)
		})
		c, delays := newTestClient(t, srv)
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
			t.Fatal(err)
		}
		if len(*delays) != 1 || (*delays)[0] != 1234*time.Millisecond {
			t.Errorf("delays %v", *delays)
		}
	})
	t.Run("over the cap returns the error with the delay", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "120")
			writeJSON(w, 429, `{"error":{"message":"come back later"}}`)
		})
		c, delays := newTestClient(t, srv)
		_, err := c.Chat.Completions.New(context.Background(), chatParams())
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.RetryAfter != 120*time.Second || len(*delays) != 0 || len(srv.requests()) != 1 {
			t.Errorf("err %v, delays %v, %d requests", err, *delays, len(srv.requests()))
		}
		// A larger cap lets the client wait.
		_, _ = c.Chat.Completions.New(context.Background(), chatParams(), WithMaxRetryDelay(3*time.Minute), WithMaxRetries(1))
		if len(*delays) != 1 || (*delays)[0] != 120*time.Second {
			t.Errorf("with a 3m cap, delays %v", *delays)
		}
	})
}

// TestRetryRefusesEnormousDelays: over real HTTP, a delay too large for a
// Duration (however written) is over the cap like any other, so the call
// returns at once with the error instead of retrying after the backoff.
func TestRetryRefusesEnormousDelays(t *testing.T) {
	for _, h := range [][2]string{
		{"Retry-After", "1e308"}, {"Retry-After", "Infinity"}, {"Retry-After", "99999999999"}, {"Retry-After-Ms", "1e15"},
	} {
		t.Run(h[0]+"="+h[1], func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set(h[0], h[1])
				writeJSON(w, 429, `{"error":{"message":"come back much later"}}`)
			})
			c, delays := newTestClient(t, srv)
			_, err := c.Chat.Completions.New(context.Background(), chatParams())
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.RetryAfter != maxDuration || len(*delays) != 0 || len(srv.requests()) != 1 {
				t.Errorf("err %v (retry after %s), delays %v, %d requests", err, apiErr.RetryAfter, *delays, len(srv.requests()))
			}
		})
	}
}

func TestRetryReplaysTheBody(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 2 {
			writeJSON(w, 503, `{}`)
			return
		}
		writeJSON(w, 200, chatJSON)
	})
	c, _ := newTestClient(t, srv)
	p := chatParams()
	p.Temperature = Float(0.25)
	if _, err := c.Chat.Completions.New(context.Background(), p, WithRequestEncoding(RequestEncodingGzip)); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 3 || !bytes.Equal(reqs[0].Body, reqs[1].Body) || !bytes.Equal(reqs[1].Body, reqs[2].Body) || len(reqs[0].Body) == 0 {
		t.Errorf("bodies differ across attempts: %q", []string{string(reqs[0].Body), string(reqs[1].Body), string(reqs[2].Body)})
	}
}

func TestRetryConnectionErrorsAndTimeouts(t *testing.T) {
	t.Run("connection reset is retried", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
			writeJSON(w, 200, chatJSON)
		})
		c, delays := newTestClient(t, srv)
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
			t.Fatal(err)
		}
		if len(*delays) != 1 {
			t.Errorf("delays %v", *delays)
		}
	})
	t.Run("body cut short is retried", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(200)
				_, _ = io.WriteString(w, chatJSON[:20])
				w.(http.Flusher).Flush()
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
			writeJSON(w, 200, chatJSON)
		})
		c, _ := newTestClient(t, srv)
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil || len(srv.requests()) != 2 {
			t.Fatalf("err %v after %d requests", err, len(srv.requests()))
		}
	})
	t.Run("connection errors exhausted", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		})
		c, _ := newTestClient(t, srv)
		_, err := c.Chat.Completions.New(context.Background(), chatParams())
		var ce *ConnectionError
		if !errors.As(err, &ce) || ce.Attempts != 3 || ce.Err == nil {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("per-attempt timeout", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n < 1 {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			writeJSON(w, 200, chatJSON)
		})
		// The second attempt must answer within the timeout: give it far more
		// than a loaded machine needs (2 s was not enough beside a CPU hog);
		// the first attempt waits it out in full.
		c, _ := newTestClient(t, srv, WithRequestTimeout(15*time.Second))
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
			t.Fatalf("the second attempt should succeed: %v", err)
		}
		srv2 := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		c2, _ := newTestClient(t, srv2, WithRequestTimeout(50*time.Millisecond), WithMaxRetries(1))
		_, err := c2.Chat.Completions.New(context.Background(), chatParams())
		var te *TimeoutError
		if !errors.As(err, &te) || te.Attempts != 2 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCancelledContextIsNotRetried(t *testing.T) {
	answered := make(chan struct{}, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, 429, `{"error":{"message":"wait"}}`)
		answered <- struct{}{}
	})
	c, _ := newTestClient(t, srv)
	c.sleep = sleep // really wait, so cancellation must interrupt it
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-answered; cancel() }() // cancel during the 30 s wait
	start := time.Now()
	_, err := c.Chat.Completions.New(ctx, chatParams())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 25*time.Second {
		t.Errorf("returned after %s: the 30 s retry wait was not interrupted", d)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
	// Already cancelled: no request at all is retried.
	_, err = c.Chat.Completions.New(ctx, chatParams())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
