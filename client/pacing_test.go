package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
)

// pacedSetup starts a fake with a rate limiter and a client on it; the
// client's options follow the test's.
func pacedSetup(t *testing.T, limits *cerebrastest.RateLimits, clk *cerebrastest.Clock, opts ...Option) (*cerebrastest.Server, *Client) {
	t.Helper()
	sopts := []cerebrastest.Option{cerebrastest.WithSpecFile("../openapi.yaml")}
	if limits != nil {
		sopts = append(sopts, cerebrastest.WithRateLimits(*limits))
	}
	if clk != nil {
		sopts = append(sopts, cerebrastest.WithClock(clk))
	}
	srv := cerebrastest.NewServer(t, sopts...)
	c, err := New(append([]Option{WithBaseURL(srv.URL), WithAPIKey(testKey), WithoutEnvironment(), WithTCPWarming(false)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return srv, c
}

func pacedChat(text string, maxTokens int) ChatCompletionNewParams {
	return ChatCompletionNewParams{Model: "llama3.1-8b", Messages: []ChatMessage{UserMessage(text)}, MaxCompletionTokens: Int(maxTokens)}
}

func stopped() *cerebrastest.Clock { return cerebrastest.NewClock(time.Unix(1_700_000_000, 0)) }

// estimate is what pacing reserves for p.
func estimate(t *testing.T, p ChatCompletionNewParams) int64 {
	t.Helper()
	cfg := defaultConfig()
	_, cost, ok := paceCost(&cfg, &p)
	if !ok {
		t.Fatal("a chat call is not paced")
	}
	return cost[winTokens]
}

// window returns the client's view of one of model's windows.
func (c *Client) window(model string, i int) (paceWindow, bool) {
	c.pacer.mu.Lock()
	defer c.pacer.mu.Unlock()
	b := c.pacer.budgets[model]
	if b == nil {
		return paceWindow{}, false
	}
	return b.win[i], true
}

// TestPacingHoldsInsteadOf429 sends more calls at once than a window
// allows, with real (tiny) windows: pacing holds the surplus until the
// resets, so the server never refuses one and every call succeeds.
func TestPacingHoldsInsteadOf429(t *testing.T) {
	const calls, perWindow = 12, 3
	p := pacedChat("pace me please", 20)
	limits := cerebrastest.RateLimits{TokensPerMinute: perWindow * estimate(t, p), Minute: 300 * time.Millisecond}
	srv, c := pacedSetup(t, &limits, nil, WithRateLimitPacing(true))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range calls {
		wg.Go(func() {
			_, err := c.Chat.Completions.New(context.Background(), p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d calls failed, the first: %v", len(errs), errs[0])
	}
	st := srv.RateLimitStats()
	if st.Limited != 0 || st.Requests != calls {
		t.Fatalf("server: %+v, want %d answered and no 429", st, calls)
	}
	if n := len(srv.Requests()); n != calls {
		t.Fatalf("the server got %d requests, want %d (none retried)", n, calls)
	}
}

// TestPacingReservesConcurrently lets ten goroutines race for three
// requests: exactly three are sent, the others fail at once (the reset is a
// day away), and the server refuses none.
func TestPacingReservesConcurrently(t *testing.T) {
	srv, c := pacedSetup(t, &cerebrastest.RateLimits{RequestsPerDay: 3}, stopped(), WithRateLimitPacing(true), WithPacingMaxWait(time.Hour))
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		ok, waited int
	)
	for range 10 {
		wg.Go(func() {
			_, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10))
			var we *RateLimitWaitError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &we) && we.Window == WindowRequestsDay:
				waited++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 3 || waited != 7 {
		t.Fatalf("%d succeeded and %d were refused by pacing, want 3 and 7", ok, waited)
	}
	if st := srv.RateLimitStats(); st.Limited != 0 || len(srv.Requests()) != 3 {
		t.Fatalf("server: %+v, %d requests; want 3 and no 429", st, len(srv.Requests()))
	}
}

// TestPacingHoldHonoursContext cancels a call while pacing holds it: it
// returns the context's error and sends nothing.
func TestPacingHoldHonoursContext(t *testing.T) {
	srv, c := pacedSetup(t, &cerebrastest.RateLimits{RequestsPerDay: 1}, stopped(),
		WithRateLimitPacing(true), WithPacingMaxWait(48*time.Hour))
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("first", 10)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan string, 1)
	c.pacer.onHold = func(model string) { held <- model }
	done := make(chan error, 1)
	go func() {
		_, err := c.Chat.Completions.New(ctx, pacedChat("second", 10))
		done <- err
	}()
	if m := <-held; m != "llama3.1-8b" {
		t.Fatalf("held a call of %q", m)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("the server got %d requests, want 1: the held call was sent", n)
	}
}

// TestPacingMaxWait: a budget that resets beyond the maximum wait fails
// the call at once with a *RateLimitWaitError naming it, for every paced
// endpoint; raising the maximum makes the call wait instead.
func TestPacingMaxWait(t *testing.T) {
	calls := map[string]func(c *Client, opts ...Option) error{
		"chat": func(c *Client, opts ...Option) error {
			_, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10), opts...)
			return err
		},
		"chat stream": func(c *Client, opts ...Option) error {
			s, err := c.Chat.Completions.NewStreaming(context.Background(), pacedChat("hi", 10), opts...)
			if err == nil {
				for range s.All() {
				}
				err = s.Err()
			}
			return err
		},
		"completion": func(c *Client, opts ...Option) error {
			_, err := c.Completions.New(context.Background(), CompletionNewParams{Model: "llama3.1-8b", Prompt: Prompt("hi"), MaxTokens: Int(10)}, opts...)
			return err
		},
		"completion stream": func(c *Client, opts ...Option) error {
			s, err := c.Completions.NewStreaming(context.Background(), CompletionNewParams{Model: "llama3.1-8b", Prompt: Prompt("hi"), MaxTokens: Int(10)}, opts...)
			if err == nil {
				for range s.All() {
				}
				err = s.Err()
			}
			return err
		},
	}
	for name, call := range calls {
		for _, tc := range []struct {
			window string
			limits cerebrastest.RateLimits
		}{
			{WindowRequestsDay, cerebrastest.RateLimits{RequestsPerDay: 1}},
			{WindowTokensMinute, cerebrastest.RateLimits{TokensPerMinute: 20, Minute: 2 * time.Minute}}, // one call fits, two do not
		} {
			t.Run(name+"/"+tc.window, func(t *testing.T) {
				srv, c := pacedSetup(t, &tc.limits, stopped(), WithRateLimitPacing(true))
				if err := call(c); err != nil {
					t.Fatal(err)
				}
				c.pacer.onHold = func(string) { t.Error("the call was held: its wait is known to be too long") }
				err := call(c)
				var we *RateLimitWaitError
				if !errors.As(err, &we) || !errors.Is(err, ErrRateLimit) {
					t.Fatalf("err = %v, want a *RateLimitWaitError", err)
				}
				if we.Window != tc.window || we.Model != "llama3.1-8b" || we.MaxWait != DefaultPacingMaxWait || we.Wait <= DefaultPacingMaxWait {
					t.Fatalf("%+v, want the %s window, the model, and a wait beyond %s", we, tc.window, DefaultPacingMaxWait)
				}
				if n := len(srv.Requests()); n != 1 {
					t.Fatalf("the server got %d requests, want 1", n)
				}
				// A call that may wait long enough is held instead, until
				// its context ends.
				ctx, cancel := context.WithCancel(context.Background())
				c.pacer.onHold = func(string) { cancel() }
				_, err = c.Chat.Completions.New(ctx, pacedChat("hi", 10), WithPacingMaxWait(math.MaxInt64)) // "forever"
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("with a longer maximum wait: %v, want the call held until cancelled", err)
				}
			})
		}
	}
}

// TestPacingCorrectsFromUsage: the estimate of a call is larger than its
// real usage; booking the usage frees the difference, so a second call
// fits in a budget that two estimates would not.
func TestPacingCorrectsFromUsage(t *testing.T) {
	p := pacedChat("correct me", 200)
	est := estimate(t, p)
	// One call's real usage, from a fake without a limiter.
	_, plain := pacedSetup(t, nil, nil)
	resp, err := plain.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	used := int64(resp.Usage.TotalTokens)
	if used >= est/2 {
		t.Fatalf("usage %d is not below half the estimate %d: the test needs it", used, est)
	}
	limit := est + used // fits an estimate and a real call, never two estimates
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			srv, c := pacedSetup(t, &cerebrastest.RateLimits{TokensPerMinute: limit, Minute: time.Hour}, stopped(), WithRateLimitPacing(true))
			for i := range 2 {
				if !stream {
					if _, err := c.Chat.Completions.New(context.Background(), p); err != nil {
						t.Fatalf("call %d: %v", i, err)
					}
					continue
				}
				// A stream's usage comes in its final chunk: read to the end.
				s, err := c.Chat.Completions.NewStreaming(context.Background(), p)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				for _, err := range s.All() {
					if err != nil {
						t.Fatalf("call %d: %v", i, err)
					}
				}
			}
			w, _ := c.window("llama3.1-8b", winTokens)
			if w.remaining != limit-2*used || w.pending != 0 {
				t.Fatalf("the client thinks %d tokens remain (%d pending), want %d", w.remaining, w.pending, limit-2*used)
			}
			if st := srv.RateLimitStats(); st.Limited != 0 || st.Tokens != 2*used {
				t.Fatalf("server: %+v", st)
			}
		})
	}
}

// TestPacingOff: without the option a client keeps no state and sends into
// the 429, as before; WithRateLimitPacing(false) on a call does the same on
// a paced client.
func TestPacingOff(t *testing.T) {
	for _, tc := range []struct {
		name       string
		clientOpts []Option
		callOpts   []Option
	}{
		{"client without pacing", nil, nil},
		{"call without pacing", []Option{WithRateLimitPacing(true)}, []Option{WithRateLimitPacing(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := pacedSetup(t, &cerebrastest.RateLimits{RequestsPerDay: 1}, stopped(), append(tc.clientOpts, WithMaxRetries(0))...)
			for i := range 2 {
				_, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10), tc.callOpts...)
				var ae *APIError
				switch {
				case i == 0 && err != nil:
					t.Fatal(err)
				case i == 1 && (!errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || ae.Code != "request_quota_exceeded"):
					t.Fatalf("second call: %v, want the server's 429", err)
				}
			}
			if st := srv.RateLimitStats(); st.Limited != 1 || len(srv.Requests()) != 2 {
				t.Fatalf("server: %+v, %d requests; want both sent", st, len(srv.Requests()))
			}
			if c.pacer.budgets != nil {
				t.Fatalf("pacing state without pacing: %v", c.pacer.budgets)
			}
		})
	}
}

// TestPacingWithoutHeaders: a server that sends no rate-limit headers
// leaves no pacing state, and calls are not held.
func TestPacingWithoutHeaders(t *testing.T) {
	srv, c := pacedSetup(t, nil, nil, WithRateLimitPacing(true))
	body := `{"id":"x","object":"chat.completion","created":1,"model":"llama3.1-8b","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
	srv.Enqueue(cerebrastest.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body},
		cerebrastest.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
	c.pacer.onHold = func(string) { t.Error("a call was held without any rate-limit headers") }
	for range 2 {
		if _, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if w, _ := c.window("llama3.1-8b", i); w.known {
			t.Fatalf("window %s is known without headers: %+v", windowNames[i], w)
		}
	}
	c.pacer.mu.Lock()
	b := c.pacer.budgets["llama3.1-8b"]
	c.pacer.mu.Unlock()
	if b == nil || !b.absent || b.inflight != 0 {
		t.Fatalf("budget = %+v, want marked as without headers, nothing in flight", b)
	}
	// The fake's own answers carry headers: pacing starts from them.
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10)); err != nil {
		t.Fatal(err)
	}
	if w, _ := c.window("llama3.1-8b", winTokens); !w.known || w.limit != 60000 {
		t.Fatalf("after a response with headers: %+v", w)
	}
}

// TestPacingStillRetries429: a 429 that pacing could not foresee (the
// first call, or another user of the key) is retried as without pacing, and
// its headers hold the next calls until its reset.
func TestPacingStillRetries429(t *testing.T) {
	srv, c := pacedSetup(t, nil, nil, WithRateLimitPacing(true))
	srv.Enqueue(cerebrastest.RateLimited(10 * time.Millisecond))
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10)); err != nil {
		t.Fatalf("the 429 was not retried: %v", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Fatalf("%d requests, want the 429 and its retry", n)
	}
	if w, _ := c.window("llama3.1-8b", winTokens); !w.known || w.limit != 60000 {
		t.Fatalf("the 429's headers were not taken in: %+v", w)
	}
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10)); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}
