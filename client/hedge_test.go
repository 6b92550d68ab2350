package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/streaming"
)

// hedgeFake is a fake API whose answers wait for first events on a stopped
// clock: delay(n) for the n-th completion it answers. Each draw is also
// sent on arrived, so that a test knows which request has come.
type hedgeFake struct {
	*cerebrastest.Server
	clk     *cerebrastest.Clock
	arrived chan int

	mu     sync.Mutex
	drawn  int
	more   chan struct{} // closed, and replaced, at each draw
	target int           // drive's
}

func newHedgeFake(t *testing.T, delay func(n int) time.Duration, opts ...cerebrastest.Option) *hedgeFake {
	t.Helper()
	f := &hedgeFake{clk: cerebrastest.NewClock(time.Unix(1_700_000_000, 0)), arrived: make(chan int, 64), more: make(chan struct{})}
	base := []cerebrastest.Option{cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithClock(f.clk),
		cerebrastest.WithFirstEventDelay(func(n int) time.Duration {
			f.mu.Lock()
			f.drawn++
			close(f.more)
			f.more = make(chan struct{})
			f.mu.Unlock()
			f.arrived <- n
			return delay(n)
		})}
	f.Server = cerebrastest.NewServer(t, append(base, opts...)...)
	f.target = 1
	return f
}

// drive makes c send a hedge (once the delay is shorter than an hour)
// when the fake has drawn the delays of target requests in all (setTarget),
// instead of when the delay has passed: the first attempt has arrived,
// and the test decides, through the fake's clock, which answer comes
// first.
func (f *hedgeFake) drive(c *Client) {
	c.hedges.timer = func(d time.Duration) (<-chan time.Time, func() bool) {
		fire, done := make(chan time.Time, 1), make(chan struct{})
		var once sync.Once
		go func() {
			if d >= time.Hour {
				<-done
				return
			}
			f.mu.Lock()
			for f.drawn < f.target {
				more := f.more
				f.mu.Unlock()
				select {
				case <-more:
				case <-done:
					return
				}
				f.mu.Lock()
			}
			f.mu.Unlock()
			fire <- time.Now()
		}()
		return fire, func() bool { once.Do(func() { close(done) }); return true }
	}
}

// setTarget says how many requests the fake must have drawn delays for
// before the next call's hedge goes.
func (f *hedgeFake) setTarget(n int) {
	f.mu.Lock()
	f.target = n
	f.mu.Unlock()
}

// waitFor waits for request n to arrive, passing the others.
func (f *hedgeFake) waitFor(t *testing.T, n int) {
	t.Helper()
	for got := range f.arrived {
		if got == n {
			return
		}
	}
}

// waitConnections waits until the fake has exactly n connections open:
// a cancelled request's connection closes as soon as both sides see it.
func waitConnections(t *testing.T, fake *cerebrastest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for fake.OpenConnections() != n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := fake.OpenConnections(); got != n {
		t.Fatalf("%d connections open, want %d", got, n)
	}
}

func hedgeClient(t *testing.T, fake *cerebrastest.Server, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithAPIKey(testKey), WithBaseURL(fake.URL), WithoutEnvironment(), WithTCPWarming(false)}
	c, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// at once hedges as soon as the timer can fire: the tests decide through
// the fake's clock which answer comes first.
var atOnce = WithHedging(HedgePolicy{Delay: time.Nanosecond})

// attempts is an Observer that keeps the attempts it is told of.
type attempts struct {
	mu    sync.Mutex
	lines []string
}

func (a *attempts) Start(ctx context.Context, _ Operation) (context.Context, OperationObserver) {
	return ctx, a
}

func (a *attempts) Attempt(at Attempt) {
	status := 0
	if at.Response != nil {
		status = at.Response.StatusCode
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if errors.Is(at.Err, ErrHedgeLost) { // cancelled, with or without its headers
		a.lines = append(a.lines, fmt.Sprintf("%d lost retry=%v hedge=%v", at.Number, at.Retry, at.Hedge))
		return
	}
	a.lines = append(a.lines, fmt.Sprintf("%d status=%d err=%v retry=%v hedge=%v", at.Number, status, at.Err != nil, at.Retry, at.Hedge))
}

func (a *attempts) Event(any)     {}
func (a *attempts) End(o Outcome) {}

func (a *attempts) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.lines, "\n")
}

// logSignal is a slog handler that sends each message on a channel.
type logSignal chan string

func (l logSignal) Enabled(context.Context, slog.Level) bool { return true }
func (l logSignal) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r.Message:
	default:
	}
	return nil
}
func (l logSignal) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logSignal) WithGroup(string) slog.Handler      { return l }

// waitLog waits for the message msg.
func (l logSignal) waitLog(msg string) {
	for m := range l {
		if m == msg {
			return
		}
	}
}

func sentCounts(fake *cerebrastest.Server) string {
	var out []string
	for _, r := range fake.Requests() {
		out = append(out, r.Header.Get("X-Stainless-Retry-Count"))
	}
	return strings.Join(out, ",")
}

// readHedged reads a chat stream and returns its text and the ids of its
// chunks, one per response.
func readHedged(t *testing.T, s interface {
	Next() bool
	Current() ChatCompletionChunk
	Err() error
	Close() error
}) (text string, ids []string) {
	t.Helper()
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		ch := s.Current()
		if len(ids) == 0 || ids[len(ids)-1] != ch.ID {
			ids = append(ids, ch.ID)
		}
		for _, c := range ch.Choices {
			b.WriteString(c.Delta.Content)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String(), ids
}

// TestHedgeWinsAStream: the first attempt produces no event (its answer
// would wait an hour); the hedge, sent as attempt 1, answers and is what
// the stream reads; the first is cancelled, its connection closed.
func TestHedgeWinsAStream(t *testing.T) {
	fake := newHedgeFake(t, func(n int) time.Duration {
		if n == 0 {
			return time.Hour
		}
		return 0
	})
	obs := new(attempts)
	c := hedgeClient(t, fake.Server, atOnce, WithObserver(obs))
	fake.drive(c)
	s, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams())
	if err != nil {
		t.Fatal(err)
	}
	text, ids := readHedged(t, s)
	if text != "You said: Hello!" || len(ids) != 1 {
		t.Errorf("text %q from %v, want one response's", text, ids)
	}
	if got := sentCounts(fake.Server); got != "0,1" {
		t.Errorf("retry counts %s, want 0,1", got)
	}
	want := "0 lost retry=false hedge=false\n1 status=200 err=false retry=false hedge=true"
	if got := obs.String(); got != want {
		t.Errorf("attempts:\n%s\nwant:\n%s", got, want)
	}
	waitConnections(t, fake.Server, 1) // the hedge's, idle in the pool; the first is closed
}

// TestHedgeLosesAStream: the hedge is sent, but the first attempt's event
// comes first: the stream reads it, and the hedge is cancelled and its
// connection closed.
func TestHedgeLosesAStream(t *testing.T) {
	fake := newHedgeFake(t, func(n int) time.Duration {
		switch n {
		case 1:
			return time.Second
		case 2:
			return time.Hour
		}
		return 0
	})
	obs := new(attempts)
	c := hedgeClient(t, fake.Server, atOnce)
	fake.drive(c)
	// An unhedged stream first: one connection, idle in the pool, is the
	// baseline.
	if s, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams(), WithoutHedging()); err != nil {
		t.Fatal(err)
	} else {
		readHedged(t, s)
	}
	waitConnections(t, fake.Server, 1)

	fake.setTarget(2)
	type opened struct {
		text string
		ids  []string
		err  error
	}
	done := make(chan opened)
	go func() {
		s, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams(), WithObserver(obs))
		if err != nil {
			done <- opened{err: err}
			return
		}
		text, ids := readHedged(t, s)
		done <- opened{text: text, ids: ids}
	}()
	fake.waitFor(t, 2)            // the hedge has arrived
	fake.clk.Advance(time.Second) // now the first attempt answers
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.text != "You said: Hello!" || len(o.ids) != 1 {
		t.Errorf("text %q from %v, want one response's", o.text, o.ids)
	}
	if got := sentCounts(fake.Server); got != "0,0,1" {
		t.Errorf("retry counts %s, want 0,0,1", got)
	}
	want := "1 lost retry=false hedge=true\n0 status=200 err=false retry=false hedge=false"
	if got := obs.String(); got != want {
		t.Errorf("attempts:\n%s\nwant:\n%s", got, want)
	}
	waitConnections(t, fake.Server, 1) // back to the baseline: the hedge's connection was released
}

// TestHedgeNeverYieldsTwice: many streams in parallel, each hedged at
// once, and all the answers of both attempts released together: each
// stream reads one response, whole, never chunks of the other (run with
// -race).
func TestHedgeNeverYieldsTwice(t *testing.T) {
	fake := newHedgeFake(t, func(int) time.Duration { return time.Second })
	c := hedgeClient(t, fake.Server, atOnce)
	c.hedges.timer = func(time.Duration) (<-chan time.Time, func() bool) {
		now := make(chan time.Time, 1)
		now <- time.Now()
		return now, func() bool { return true }
	}
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			p := chatParams()
			p.Messages = []ChatMessage{UserMessage(fmt.Sprintf("stream %d", i))}
			s, err := c.Chat.Completions.NewStreaming(context.Background(), p)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			var b strings.Builder
			ids := map[string]bool{}
			for s.Next() {
				ch := s.Current()
				ids[ch.ID] = true
				for _, c := range ch.Choices {
					b.WriteString(c.Delta.Content)
				}
			}
			if want := fmt.Sprintf("You said: stream %d", i); s.Err() != nil || b.String() != want || len(ids) != 1 {
				errs <- fmt.Errorf("stream %d: %q from %d responses (%v), want %q from one", i, b.String(), len(ids), s.Err(), want)
			}
		})
	}
	fake.waitFor(t, 2*n-1)        // every stream and its hedge wait for their first event
	fake.clk.Advance(time.Second) // all answer at once
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(fake.Requests()); got != 2*n {
		t.Errorf("%d requests for %d streams, want %d", got, n, 2*n)
	}
	// Every connection is released: closed, or idle in the pool (a loser
	// whose short answer had arrived whole may be kept), which Close empties.
	c.Close()
	waitConnections(t, fake.Server, 0)
}

// TestHedgeACall: a call that does not stream is hedged on its complete
// response, chat and text completions alike.
func TestHedgeACall(t *testing.T) {
	fake := newHedgeFake(t, func(n int) time.Duration {
		if n%2 == 0 {
			return time.Hour
		}
		return 0
	})
	obs := new(attempts)
	c := hedgeClient(t, fake.Server, atOnce, WithObserver(obs))
	fake.drive(c)
	resp, err := c.Chat.Completions.New(context.Background(), chatParams())
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "You said: Hello!" {
		t.Errorf("content %q", got)
	}
	fake.setTarget(3)
	cresp, err := c.Completions.New(context.Background(), CompletionNewParams{Model: ModelGemma431B, Prompt: Prompt("Once")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cresp.Choices) != 1 {
		t.Errorf("choices %v", cresp.Choices)
	}
	if got := sentCounts(fake.Server); got != "0,1,0,1" {
		t.Errorf("retry counts %s, want 0,1,0,1", got)
	}
	want := strings.Repeat("0 lost retry=false hedge=false\n1 status=200 err=false retry=false hedge=true\n", 2)
	if got := obs.String() + "\n"; got != want {
		t.Errorf("attempts:\n%s\nwant:\n%s", got, want)
	}
	waitConnections(t, fake.Server, 1)
}

// TestHedgeIsRefusedElsewhere: only chat and text completions take the
// option; a create is never hedged, even by a client that hedges.
func TestHedgeIsRefusedElsewhere(t *testing.T) {
	fake, c := newFake(t, atOnce)
	_, err := c.Models.List(context.Background(), atOnce)
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "WithHedging" {
		t.Fatalf("Models.List with WithHedging: %v, want a *ParamError", err)
	}
	_, err = c.Files.New(context.Background(), FileNewParams{File: strings.NewReader(batchJSONL), Filename: "b.jsonl", Purpose: FilePurposeBatch}, atOnce)
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "never to a create") {
		t.Fatalf("Files.New with WithHedging: %v, want a *ParamError", err)
	}
	for _, op := range []*operation{opFilesNew, opBatchesNew, opChatNew} {
		cl := &call{cfg: c.cfg, op: op}
		c.startHedging(cl, &ChatCompletionNewParams{Model: "m"})
		if hedged := cl.hedge != nil; hedged != (op == opChatNew) {
			t.Errorf("%s hedged: %v", op.method, hedged)
		}
	}
	// The client's option applies where it can: the upload is sent once.
	uploadJSONL(t, c, "b.jsonl", batchJSONL)
	if got := sentCounts(fake); got != "0" {
		t.Errorf("retry counts %s", got)
	}
	for _, bad := range []HedgePolicy{{Delay: -1}, {Percentile: 1}, {Percentile: -0.5}, {MinDelay: time.Second, MaxDelay: time.Millisecond}, {Samples: -1}, {Samples: 10}, {MinSamples: 30, Samples: 20}} {
		if _, err := New(WithAPIKey(testKey), WithoutEnvironment(), WithTCPWarming(false), WithHedging(bad)); !errors.As(err, &pe) {
			t.Errorf("WithHedging(%+v): %v, want a *ParamError", bad, err)
		}
	}
}

// TestHedgeTakesARetry: the hedge is one attempt of the retry budget. With
// one retry, a race whose two attempts both fail is not retried; with two,
// the retry is attempt 2; with none, no hedge is sent.
func TestHedgeTakesARetry(t *testing.T) {
	for _, retries := range []int{0, 1, 2} {
		t.Run(fmt.Sprint(retries), func(t *testing.T) {
			fake := newHedgeFake(t, func(n int) time.Duration {
				if n == 0 {
					return time.Second
				}
				return 0
			})
			failed := make(chan string, 4)
			fail503 := func(req *http.Request, next Next) (*http.Response, error) {
				resp, err := next(req)
				if err != nil {
					return nil, err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				failed <- req.Header.Get("X-Stainless-Retry-Count")
				return &http.Response{StatusCode: 503, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
					Body: io.NopCloser(strings.NewReader(`{"error":{"message":"busy","type":"server_error","param":null,"code":null}}`))}, nil
			}
			logs := make(logSignal, 64)
			c := hedgeClient(t, fake.Server, atOnce, WithMaxRetries(retries), WithMiddleware(fail503), WithLogger(slog.New(logs)))
			fake.drive(c)
			errc := make(chan error)
			go func() {
				_, err := c.Chat.Completions.New(context.Background(), chatParams())
				errc <- err
			}()
			if retries == 0 {
				logs.waitLog("cerebras: not hedging: no retry left")
			} else if got := <-failed; got != "1" { // the hedge has failed: the first attempt still waits
				t.Fatalf("the first failure was of attempt %s", got)
			}
			fake.waitFor(t, 0)
			fake.clk.Advance(time.Second)
			var apiErr *APIError
			if err := <-errc; !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
				t.Fatalf("err = %v, want the 503", err)
			}
			want := map[int]string{0: "0", 1: "0,1", 2: "0,1,2"}[retries]
			if got := sentCounts(fake.Server); got != want {
				t.Errorf("retry counts %s, want %s", got, want)
			}
		})
	}
}

// TestHedgeWaitsForQuota: with pacing, a hedge is reserved like a call and
// sent only when the budget allows it at once; a hedge sent spends its
// quota even when it loses.
func TestHedgeWaitsForQuota(t *testing.T) {
	fake := newHedgeFake(t, func(n int) time.Duration {
		switch n {
		case 1:
			return time.Second // the gated call: answered once the test saw no hedge go
		case 2:
			return time.Hour // the hedged call's first attempt: the hedge wins
		}
		return 0
	}, cerebrastest.WithRateLimits(cerebrastest.RateLimits{TokensPerMinute: 1000}))
	logs := make(logSignal, 64)
	c := hedgeClient(t, fake.Server, atOnce, WithRateLimitPacing(true), WithLogger(slog.New(logs)))
	fake.drive(c)
	params := func(maxTokens int) ChatCompletionNewParams {
		p := chatParams()
		p.MaxCompletionTokens = Int(maxTokens)
		return p
	}
	// The first call learns the budget (a call is not hedged while it is
	// unknown).
	if _, err := c.Chat.Completions.New(context.Background(), params(10)); err != nil {
		t.Fatal(err)
	}
	remaining := func() int64 {
		c.pacer.mu.Lock()
		defer c.pacer.mu.Unlock()
		return c.pacer.budgets[ModelGemma431B].win[winTokens].remaining
	}
	r0 := remaining()
	for len(logs) > 0 { // what the first call logged
		<-logs
	}

	// 600 tokens reserved for the call leave too few for its hedge.
	fake.setTarget(2)
	errc := make(chan error)
	go func() {
		_, err := c.Chat.Completions.New(context.Background(), params(600))
		errc <- err
	}()
	logs.waitLog("cerebras: not hedging: the rate-limit budget does not allow it now")
	fake.waitFor(t, 1)
	fake.clk.Advance(time.Second)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := sentCounts(fake.Server); got != "0,0" {
		t.Fatalf("retry counts %s, want 0,0: no hedge", got)
	}

	// 300 tokens twice fit: the hedge is sent, wins, and the first
	// attempt, cancelled, keeps its reservation: the server counted it.
	r1 := remaining()
	fake.setTarget(3)
	if _, err := c.Chat.Completions.New(context.Background(), params(300)); err != nil {
		t.Fatal(err)
	}
	if got := sentCounts(fake.Server); got != "0,0,0,1" {
		t.Fatalf("retry counts %s, want 0,0,0,1", got)
	}
	if spent := r1 - remaining(); spent < 300 {
		t.Errorf("the hedged call spent %d tokens of the budget (from %d, first %d), want the cancelled attempt's 300 and more", spent, r1, r0)
	}
}

// TestHedgeLearnsItsDelay: the learned delay is the percentile of the
// times kept, within its bounds, and the policy's maximum until enough
// were observed.
func TestHedgeLearnsItsDelay(t *testing.T) {
	var opt config
	if err := WithHedging(HedgePolicy{MinDelay: time.Millisecond, MaxDelay: time.Second, Samples: 40})(&opt); err != nil {
		t.Fatal(err)
	}
	h := &hedging{policy: opt.hedge, times: new(hedgeStats).of("m", true, opt.hedge.Samples)}
	for i := 1; i < DefaultHedgeMinSamples; i++ {
		h.times.add(time.Duration(i) * time.Millisecond)
	}
	if d := h.delay(); d != time.Second {
		t.Errorf("with %d samples: %s, want MaxDelay", DefaultHedgeMinSamples-1, d)
	}
	h.times.add(20 * time.Millisecond) // 1..20 ms: the 95th percentile is 19 ms
	if d := h.delay(); d != 19*time.Millisecond {
		t.Errorf("p95 of 1..20 ms: %s, want 19ms", d)
	}
	for range 40 { // the ring keeps the latest 40: all 2 s, capped
		h.times.add(2 * time.Second)
	}
	if d := h.delay(); d != time.Second {
		t.Errorf("capped: %s, want 1s", d)
	}
	for range 40 {
		h.times.add(time.Microsecond)
	}
	if d := h.delay(); d != time.Millisecond {
		t.Errorf("floored: %s, want 1ms", d)
	}
	h.policy = &HedgePolicy{Delay: 7 * time.Millisecond}
	if d := h.delay(); d != 7*time.Millisecond {
		t.Errorf("fixed: %s", d)
	}

	// A hedged call adds the time to first event of the attempt that won to
	// its model's.
	fake := newHedgeFake(t, func(n int) time.Duration {
		if n == 1 {
			return time.Hour
		}
		return 0
	})
	c := hedgeClient(t, fake.Server, WithHedging(HedgePolicy{}))
	fake.drive(c)
	fake.setTarget(2)
	for _, opt := range []Option{WithHedging(HedgePolicy{Delay: time.Hour}), atOnce} {
		s, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams(), opt)
		if err != nil {
			t.Fatal(err)
		}
		readHedged(t, s)
	}
	times := c.hedges.of(ModelGemma431B, true, 0)
	if len(times.ring) != 2 || cap(times.ring) != DefaultHedgeSamples {
		t.Errorf("%d times kept of %d, want 2 of %d", len(times.ring), cap(times.ring), DefaultHedgeSamples)
	}
	if c.hedges.of(ModelGemma431B, false, 0) == times {
		t.Error("calls and streams share their times")
	}
}

// TestFirstEvent: the peek ends at the first message or error event,
// past keep-alives, whatever the line endings.
func TestFirstEvent(t *testing.T) {
	for _, tc := range []struct {
		in          string
		done, isMsg bool
	}{
		{"data: {}\n\n", true, true},
		{"data: {}\n", false, false},
		{": keep-alive\n\ndata: {}\r\n\r\n", true, true},
		{"\xef\xbb\xbfdata: {}\r\r", true, true},
		{"event: ping\ndata: {}\n\n", false, false},
		{"event: ping\ndata: {}\n\nevent: message\ndata: {}\n\n", true, true},
		{"event: error\ndata: {}\n\n", true, false},
		{"data: {\"error\":{\"message\":\"x\"}}\n\n", true, false},
		{"data: {\"error\":null,\"id\":\"a\"}\n\n", true, true},
		{"\n\nid: 1\n\n", false, false},
		{": keep-alive\n\n: keep-alive\n\n", false, false},
		{"data:\n\ndata: {}\n\n", true, true},
	} {
		done, isMsg := firstEvent(streaming.NewDecoder(iotest.OneByteReader(strings.NewReader(tc.in)), 0)) // byte by byte, as reads may split it
		if done != tc.done || isMsg != tc.isMsg {
			t.Errorf("%q: done=%v message=%v, want %v %v", tc.in, done, isMsg, tc.done, tc.isMsg)
		}
	}
}

// TestPeekBoundsKeepAlives: keep-alives before the first event neither win
// a hedged race nor make the peek keep more than the event size limit.
func TestPeekBoundsKeepAlives(t *testing.T) {
	body := strings.Repeat(": keep-alive\n\n", 1000) + "data: {}\n\n"
	resp := &http.Response{Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: io.NopCloser(strings.NewReader(body))}
	if peekFirstEvent(resp, func() {}, 0, 1024) {
		t.Fatal("keep-alives past the limit made a first event")
	}
	got, err := io.ReadAll(resp.Body)
	if err == nil || !strings.Contains(err.Error(), "more than 1024 bytes before a stream's first event") || len(got) > 1024 {
		t.Errorf("read %d bytes, then %v; want at most 1024, then the limit's error", len(got), err)
	}
	resp = &http.Response{Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: io.NopCloser(strings.NewReader(body))}
	if !peekFirstEvent(resp, func() {}, 0, 1<<20) {
		t.Fatal("the event after the keep-alives is not a first event")
	}
	if got, err := io.ReadAll(resp.Body); err != nil || string(got) != body {
		t.Errorf("the stream reads %d bytes, %v; want the body again", len(got), err)
	}
}
