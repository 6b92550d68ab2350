package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
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
	return ChatCompletionNewParams{Model: ModelGemma431B, Messages: []ChatMessage{UserMessage(text)}, MaxCompletionTokens: Int(maxTokens)}
}

func stopped() *cerebrastest.Clock { return cerebrastest.NewClock(time.Unix(1_700_000_000, 0)) }

// estimate is what pacing reserves for p.
func estimate(t *testing.T, p ChatCompletionNewParams) int64 {
	t.Helper()
	cfg := defaultConfig()
	_, cost, ok := paceCost(&cfg, &p, encodedSize(t, &p))
	if !ok {
		t.Fatal("a chat call is not paced")
	}
	return cost[winTokens]
}

// encodedSize is the size of the body a call of params sends.
func encodedSize(t *testing.T, params any) int {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
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
	if m := <-held; m != ModelGemma431B {
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
			_, err := c.Completions.New(context.Background(), CompletionNewParams{Model: ModelGemma431B, Prompt: Prompt("hi"), MaxTokens: Int(10)}, opts...)
			return err
		},
		"completion stream": func(c *Client, opts ...Option) error {
			s, err := c.Completions.NewStreaming(context.Background(), CompletionNewParams{Model: ModelGemma431B, Prompt: Prompt("hi"), MaxTokens: Int(10)}, opts...)
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
				if we.Window != tc.window || we.Model != ModelGemma431B || we.MaxWait != DefaultPacingMaxWait || we.Wait <= DefaultPacingMaxWait {
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
	// One call's real usage, from a fake without a limiter.
	_, plain := pacedSetup(t, nil, nil)
	resp, err := plain.Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	used := int64(resp.Usage.TotalTokens)
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			sent := p
			if stream {
				sent.Stream = Bool(true) // as NewStreaming sends it
			}
			est := estimate(t, sent)
			if used >= est/2 {
				t.Fatalf("usage %d is not below half the estimate %d: the test needs it", used, est)
			}
			limit := est + used // fits an estimate and a real call, never two estimates
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
			w, _ := c.window(ModelGemma431B, winTokens)
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
	body := `{"id":"x","object":"chat.completion","created":1,"model":"gemma-4-31b","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
	srv.Enqueue(cerebrastest.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body},
		cerebrastest.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
	c.pacer.onHold = func(string) { t.Error("a call was held without any rate-limit headers") }
	for range 2 {
		if _, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if w, _ := c.window(ModelGemma431B, i); w.known {
			t.Fatalf("window %s is known without headers: %+v", windowNames[i], w)
		}
	}
	c.pacer.mu.Lock()
	b := c.pacer.budgets[ModelGemma431B]
	c.pacer.mu.Unlock()
	if b == nil || !b.absent || b.inflight != 0 {
		t.Fatalf("budget = %+v, want marked as without headers, nothing in flight", b)
	}
	// The fake's own answers carry headers: pacing starts from them.
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10)); err != nil {
		t.Fatal(err)
	}
	if w, _ := c.window(ModelGemma431B, winTokens); !w.known || w.limit != 60000 {
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
	if w, _ := c.window(ModelGemma431B, winTokens); !w.known || w.limit != 60000 {
		t.Fatalf("the 429's headers were not taken in: %+v", w)
	}
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("hi", 10)); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

// unitPacer is a pacer on a stopped clock, for tests that drive
// reservations by hand; advance moves its clock.
func unitPacer() (p *pacer, advance func(time.Duration)) {
	now := time.Unix(1_700_000_000, 0)
	p = &pacer{now: func() time.Time { return now }}
	return p, func(d time.Duration) { now = now.Add(d) }
}

// rlResponse is a response whose rate-limit headers say the given remaining
// requests and tokens, of limits reqLimit and tokLimit, both resetting in
// reset.
func rlResponse(status int, reqLimit, reqRemaining, tokLimit, tokRemaining int64, reset time.Duration) *http.Response {
	h := http.Header{}
	for _, w := range []struct {
		suffix           string
		limit, remaining int64
	}{{"Requests-Day", reqLimit, reqRemaining}, {"Tokens-Minute", tokLimit, tokRemaining}} {
		h.Set("X-Ratelimit-Limit-"+w.suffix, fmt.Sprint(w.limit))
		h.Set("X-Ratelimit-Remaining-"+w.suffix, fmt.Sprint(w.remaining))
		h.Set("X-Ratelimit-Reset-"+w.suffix, fmt.Sprint(reset.Seconds()))
	}
	return &http.Response{StatusCode: status, Header: h}
}

// unitReserve reserves a call of params on p, with the given maximum wait.
func unitReserve(t *testing.T, p *pacer, params ChatCompletionNewParams, maxWait time.Duration) (*reservation, error) {
	t.Helper()
	cfg := defaultConfig()
	cfg.pacingMaxWait = maxWait
	return p.reserve(context.Background(), &cfg, &params, encodedSize(t, &params))
}

// mustReserve is unitReserve for a call that must not wait.
func mustReserve(t *testing.T, p *pacer, params ChatCompletionNewParams) *reservation {
	t.Helper()
	r, err := unitReserve(t, p, params, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// unitWindow is p's view of a window of the model of pacedChat.
func unitWindow(p *pacer, i int) paceWindow {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.budget(ModelGemma431B).win[i]
}

// learned gives p the budget of the model of pacedChat through a first
// call: tokLimit tokens a minute, all remaining.
func learned(t *testing.T, p *pacer, tokLimit int64) {
	t.Helper()
	r := mustReserve(t, p, pacedChat("probe", 1))
	if !r.probe {
		t.Fatal("the first call is not the probe")
	}
	resp := rlResponse(200, 1000, 1000, tokLimit, tokLimit, time.Minute)
	r.observe(resp)
	r.settle(resp, &Usage{})
}

// TestPacingResetWithCallsInFlight: two calls are in flight when the
// tokens window resets; their answers describe the old window and are not
// believed, so the window's state after the reset is unknown. A third call
// whose cost is above what the client thinks remains must not wait for a
// reset nobody will announce: with nothing in flight it goes out to learn
// the state, and its answer refreshes the window.
func TestPacingResetWithCallsInFlight(t *testing.T) {
	p, advance := unitPacer()
	params := pacedChat("reset with calls in flight", 30)
	est := estimate(t, params)
	limit := 2*est + est/2 // two calls fit, three do not
	learned(t, p, limit)
	a, b := mustReserve(t, p, params), mustReserve(t, p, params)
	advance(time.Minute + time.Second) // the reset passes while a and b are out
	// Held while a and b are in flight: their answers may yet tell.
	p.mu.Lock()
	r, wake, _, werr := p.budget(ModelGemma431B).try(p.clock(), p.clock().Add(time.Hour), [2]int64{1, est})
	p.mu.Unlock()
	if r != nil || werr != nil || wake.IsZero() {
		t.Fatalf("with calls in flight: reservation %v, wake %v, err %v; want held", r, wake, werr)
	}
	for _, r := range []*reservation{a, b} {
		resp := rlResponse(200, 1000, 990, limit, 5, 30*time.Second) // the old window's count
		r.observe(resp)
		r.settle(resp, &Usage{TotalTokens: int(est)})
	}
	c, err := unitReserve(t, p, params, 0)
	if err != nil {
		t.Fatalf("after the reset with nothing in flight: %v; want the call sent to learn the budget", err)
	}
	c.observe(rlResponse(200, 1000, 997, limit, limit-est, 59*time.Second))
	if w := unitWindow(p, winTokens); w.remaining != limit-est || w.resetAt.IsZero() {
		t.Fatalf("after the call's answer: remaining %d, reset %v; want %d and a known reset", w.remaining, w.resetAt, limit-est)
	}
}

// TestPacingSharedKeyNoDoubleCorrection: another user of the key spent
// tokens, so the server's count is lower than the client's. Adopting it
// must still count the other call in flight, and settle must not correct
// the adopted count with the usage a second time.
func TestPacingSharedKeyNoDoubleCorrection(t *testing.T) {
	p, _ := unitPacer()
	params := pacedChat("shared key", 30)
	est := estimate(t, params)
	const limit, other, used = 1000, 500, 10
	learned(t, p, limit)
	a, b := mustReserve(t, p, params), mustReserve(t, p, params)
	resp := rlResponse(200, 1000, 997, limit, limit-other-used, 30*time.Second) // counts a, not b
	a.observe(resp)
	a.settle(resp, &Usage{TotalTokens: used})
	if w := unitWindow(p, winTokens); w.remaining != limit-other-used-est {
		t.Fatalf("after a: remaining %d, want %d (the server's count less b's estimate)", w.remaining, limit-other-used-est)
	}
	resp = rlResponse(200, 1000, 996, limit, limit-other-2*used, 30*time.Second)
	b.observe(resp)
	b.settle(resp, &Usage{TotalTokens: used})
	if w := unitWindow(p, winTokens); w.remaining != limit-other-2*used || w.pending != 0 {
		t.Fatalf("after b: remaining %d (%d pending), want %d", w.remaining, w.pending, limit-other-2*used)
	}
}

// TestPacingErrorWithoutHeaders: an error response without rate-limit
// headers (a proxy's 502, a 401) does not say that the server sends none:
// pacing stays on, and the next call probes again. A success without
// headers does say so.
func TestPacingErrorWithoutHeaders(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusUnauthorized, http.StatusOK} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			p, _ := unitPacer()
			r := mustReserve(t, p, pacedChat("hi", 10))
			resp := &http.Response{StatusCode: status, Header: http.Header{}}
			r.observe(resp)
			r.settle(resp, nil)
			p.mu.Lock()
			absent := p.budget(ModelGemma431B).absent
			p.mu.Unlock()
			if absent != (status == http.StatusOK) {
				t.Fatalf("absent = %v after a %d without headers", absent, status)
			}
			if next := mustReserve(t, p, pacedChat("hi", 10)); next.probe == absent {
				t.Fatalf("after a %d without headers: next call probe = %v", status, next.probe)
			}
		})
	}
}

// TestPacingFinal429GivesBack: a call refused with a 429 (here for the
// requests of the day) was counted by nothing: it gives its tokens back,
// and the client believes the server's count of requests.
func TestPacingFinal429GivesBack(t *testing.T) {
	p, _ := unitPacer()
	params := pacedChat("refused", 30)
	const limit = 1000
	learned(t, p, limit)
	r := mustReserve(t, p, params)
	resp := rlResponse(http.StatusTooManyRequests, 1000, 0, limit, limit, 30*time.Second)
	r.observe(resp)
	r.settle(resp, nil)
	if w := unitWindow(p, winTokens); w.remaining != limit || w.pending != 0 {
		t.Fatalf("tokens remaining %d (%d pending), want %d: the 429 counted nothing", w.remaining, w.pending, limit)
	}
	if w := unitWindow(p, winRequests); w.remaining != 0 {
		t.Fatalf("requests remaining %d, want the server's 0", w.remaining)
	}
}

// TestPacingProbeWaitIsBounded: calls waiting for a model's first answer
// wait at most WithPacingMaxWait, then fail with a *RateLimitWaitError that
// says the budget is still unknown.
func TestPacingProbeWaitIsBounded(t *testing.T) {
	p, _ := unitPacer()
	if r := mustReserve(t, p, pacedChat("probe", 10)); !r.probe {
		t.Fatal("the first call is not the probe")
	}
	// Were the call held (no bound), cancelling it on hold ends the test.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.onHold = func(string) { cancel() }
	cfg := defaultConfig()
	cfg.pacingMaxWait = 0
	params := pacedChat("waits", 10)
	_, err := p.reserve(ctx, &cfg, &params, encodedSize(t, &params))
	var we *RateLimitWaitError
	if !errors.As(err, &we) || !errors.Is(err, ErrRateLimit) || we.Window != "" || we.Model != ModelGemma431B {
		t.Fatalf("err = %v, want a *RateLimitWaitError without a window", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "still unknown") {
		t.Fatalf("message %q does not say the budget is unknown", msg)
	}
}

// TestPacingKeepsWhatMayBeCounted: a call that failed after its request
// may have reached the server keeps its estimate (the server counted it,
// or may have); only a request never sent gives it back.
func TestPacingKeepsWhatMayBeCounted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	params := pacedChat("may be counted", 20)
	est := estimate(t, params)
	for _, tc := range []struct {
		name string
		opts func(cancel context.CancelFunc) []Option
		kept bool
	}{
		{"response too large", func(context.CancelFunc) []Option { return []Option{WithMaxResponseSize(10)} }, true},
		{"context ended after the response", func(cancel context.CancelFunc) []Option {
			return []Option{WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) {
				resp, err := next(r)
				cancel()
				return resp, err
			})}
		}, true},
		{"never sent", func(context.CancelFunc) []Option {
			return []Option{WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) {
				r.URL.Host = closed // connection refused: nothing written
				return next(r)
			})}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := pacedSetup(t, &cerebrastest.RateLimits{TokensPerMinute: 10000, Minute: time.Hour}, stopped(),
				WithRateLimitPacing(true), WithMaxRetries(0))
			if _, err := c.Chat.Completions.New(context.Background(), params); err != nil {
				t.Fatal(err)
			}
			before, _ := c.window(ModelGemma431B, winTokens)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := c.Chat.Completions.New(ctx, params, tc.opts(cancel)...); err == nil {
				t.Fatal("the call did not fail")
			}
			after, _ := c.window(ModelGemma431B, winTokens)
			want := before.remaining
			if tc.kept {
				want -= est
			}
			if after.remaining != want || after.pending != 0 {
				t.Fatalf("remaining %d (%d pending), want %d (kept: %v)", after.remaining, after.pending, want, tc.kept)
			}
		})
	}
}

// TestPacingReplayBooks: a stream replayed before its first event sends
// its request again, which the server counts: the replay takes one more
// request and estimate before it is sent.
func TestPacingReplayBooks(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []int64 // requests remaining, as the client saw them, when each replay went out
		c    *Client
	)
	srv, c := pacedSetup(t, &cerebrastest.RateLimits{RequestsPerDay: 100}, stopped(), WithRateLimitPacing(true),
		WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) {
			if r.Header.Get("X-Stainless-Retry-Count") != "0" {
				w, _ := c.window(ModelGemma431B, winRequests)
				mu.Lock()
				seen = append(seen, w.remaining)
				mu.Unlock()
			}
			return next(r)
		}))
	c.sleep = func(context.Context, time.Duration) error { return nil }
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("first", 10)); err != nil {
		t.Fatal(err)
	}
	srv.Enqueue(cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 0})
	s, err := c.Chat.Completions.NewStreaming(context.Background(), pacedChat("replayed", 10))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// 100, less the first call, the stream's first request, and its replay.
	if len(seen) != 1 || seen[0] != 97 {
		t.Fatalf("requests remaining when the replay went out: %v, want [97]", seen)
	}
	if w, _ := c.window(ModelGemma431B, winRequests); w.remaining != 97 || w.pending != 0 {
		t.Fatalf("after the stream: %d requests remaining (%d pending), want 97", w.remaining, w.pending)
	}
}

// TestPacingLogsHold: a held call is logged at debug level with its model,
// the window that holds it and the wait.
func TestPacingLogsHold(t *testing.T) {
	logs := new(syncBuffer)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, c := pacedSetup(t, &cerebrastest.RateLimits{RequestsPerDay: 1}, stopped(),
		WithRateLimitPacing(true), WithPacingMaxWait(48*time.Hour), WithLogger(logger))
	if _, err := c.Chat.Completions.New(context.Background(), pacedChat("first", 10)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.pacer.onHold = func(string) { cancel() }
	if _, err := c.Chat.Completions.New(ctx, pacedChat("held", 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the held call cancelled", err)
	}
	out := logs.String()
	for _, want := range []string{`msg="cerebras: rate-limit pacing holds a call"`, "model=gemma-4-31b", "window=requests-day", "wait="} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in the log:\n%s", want, out)
		}
	}
}

// TestPacingEstimatesTheWholeRequest: tools and a response format count
// in the estimate like messages do: the server counts them as prompt.
func TestPacingEstimatesTheWholeRequest(t *testing.T) {
	plain := pacedChat("what is the weather?", 20)
	withTools := plain
	withTools.Tools = []Tool{FunctionTool("get_weather", "The weather for a city, today or on any day of the coming week",
		map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}, "day": map[string]any{"type": "string"}}})}
	withTools.ResponseFormat = ResponseFormatText()
	extra := int64(encodedSize(t, &withTools)-encodedSize(t, &plain)) / 4
	if got := estimate(t, withTools) - estimate(t, plain); got < extra-1 || extra < 30 {
		t.Fatalf("tools and response format add %d tokens to the estimate, want about %d", got, extra)
	}
}
