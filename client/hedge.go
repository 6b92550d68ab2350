package client

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
	"github.com/cerebras-go/cerebras/streaming"
)

// Defaults of hedging (WithHedging) with a learned delay.
const (
	// DefaultHedgePercentile is the percentile of a model's observed times
	// to first event used as the hedge delay.
	DefaultHedgePercentile = 0.95
	// DefaultHedgeMinSamples is how many times to first event of a model
	// the client observes before it believes their percentile; until then
	// the delay is the policy's MaxDelay.
	DefaultHedgeMinSamples = 20
	// DefaultHedgeSamples is how many of a model's latest times to first
	// event the client keeps.
	DefaultHedgeSamples = 256
	// DefaultHedgeMinDelay is the shortest learned delay: a model that
	// always answers at once is not hedged at the first hiccup.
	DefaultHedgeMinDelay = 50 * time.Millisecond
	// DefaultHedgeMaxDelay is the longest learned delay, and the delay
	// until enough times were observed.
	DefaultHedgeMaxDelay = 5 * time.Second
)

// ErrHedgeLost is the error an Observer is given (Attempt.Err) for the
// attempt of a hedged race that lost: the other attempt answered first and
// this one was cancelled.
var ErrHedgeLost = errors.New("cerebras: cancelled: the other attempt of the hedge answered first")

// HedgePolicy says when a hedged call sends its duplicate (WithHedging). Its
// zero value learns the delay with the defaults.
type HedgePolicy struct {
	// Delay, if positive, is a fixed delay: the duplicate is sent when the
	// first attempt has produced nothing for this long. Zero learns the
	// delay from the client's own observations, per model, streams and
	// calls apart (the fields below).
	Delay time.Duration
	// Percentile (0 < p < 1) of the observed times to first event (for a
	// call: to the complete response) is the learned delay (0:
	// DefaultHedgePercentile).
	Percentile float64
	// MinSamples observations are needed before the learned delay is used;
	// until then the delay is MaxDelay (0: DefaultHedgeMinSamples).
	MinSamples int
	// Samples is how many of the latest observations are kept per model
	// (0: DefaultHedgeSamples).
	Samples int
	// MinDelay and MaxDelay bound the learned delay (0:
	// DefaultHedgeMinDelay and DefaultHedgeMaxDelay).
	MinDelay, MaxDelay time.Duration
}

// WithHedging turns hedging on for chat and text completions (streaming or
// not): when the first attempt has produced no event (for a call: no
// complete response) within a delay, fixed or learned (HedgePolicy), the
// client sends one duplicate of the request. The first of the two to
// produce an event, or a complete response, is what the caller gets; the
// other is cancelled at once and its connection closed. Never do both
// reach the caller: a hedged NewStreaming returns once its first event has
// arrived (the race is decided then; Close cannot abort it, the context
// can), and the stream reads one response only.
//
// A hedge is one more attempt: it takes one retry of the call's budget
// (WithMaxRetries; none is sent when the budget is spent, so with
// WithMaxRetries(0) nothing is hedged), is sent with the next
// X-Stainless-Retry-Count, is logged (WithLogger: "cerebras: hedging",
// then who won) and is reported to the Observer (Attempt.Hedge; the loser
// with ErrHedgeLost). A call sends at most one hedge.
//
// A hedge costs quota even when it is cancelled at once: the API counts a
// request's input tokens plus its max_completion_tokens (without it, the
// model's largest completion) against the tokens-per-minute budget as soon
// as the request arrives. Set max_completion_tokens to keep that cost
// down. With rate-limit pacing on (WithRateLimitPacing), a hedge is
// reserved like a call and sent only when the budget allows it at once;
// a hedge that would have to wait is not sent.
//
// Creates are never hedged, and other operations refuse the option with a
// *ParamError. A learned delay comes from the calls that hedging is on for.
// A *ParamError reports a negative field, a percentile outside (0, 1), a
// MinDelay above MaxDelay or MinSamples above Samples (defaults filled in).
func WithHedging(p HedgePolicy) Option {
	return func(c *config) error {
		switch {
		case p.Delay < 0 || p.MinDelay < 0 || p.MaxDelay < 0 || p.MinSamples < 0 || p.Samples < 0:
			return paramError("WithHedging", "WithHedging: negative field in %+v", p)
		case p.Percentile < 0 || p.Percentile >= 1:
			return paramError("WithHedging", "WithHedging: percentile %v is not in (0, 1)", p.Percentile)
		}
		p.Percentile = cmp.Or(p.Percentile, DefaultHedgePercentile)
		p.MinSamples = cmp.Or(p.MinSamples, DefaultHedgeMinSamples)
		p.Samples = cmp.Or(p.Samples, DefaultHedgeSamples)
		p.MinDelay = cmp.Or(p.MinDelay, DefaultHedgeMinDelay)
		p.MaxDelay = cmp.Or(p.MaxDelay, DefaultHedgeMaxDelay)
		if p.MinDelay > p.MaxDelay {
			return paramError("WithHedging", "WithHedging: MinDelay %s is above MaxDelay %s", p.MinDelay, p.MaxDelay)
		}
		if p.MinSamples > p.Samples { // the history would never hold enough: the delay would stay MaxDelay
			return paramError("WithHedging", "WithHedging: MinSamples %d is above Samples %d, the observations kept", p.MinSamples, p.Samples)
		}
		c.set |= optHedging
		c.hedge = &p
		return nil
	}
}

// WithoutHedging turns hedging off (for one call of a client that hedges).
func WithoutHedging() Option {
	return func(c *config) error {
		c.set |= optHedging
		c.hedge = nil
		return nil
	}
}

// hedging is the hedge state of one call.
type hedging struct {
	policy *HedgePolicy
	times  *latencies
	model  string
	sent   bool // a call sends one hedge at most
	hedgeN int  // the hedge's attempt number, once sent
}

// is reports whether attempt n was the call's hedge; it accepts nil.
func (h *hedging) is(n int) bool { return h != nil && h.sent && h.hedgeN == n }

// startHedging gives a call of a chat or text completion its hedge state,
// when hedging is on for it (post calls it).
func (c *Client) startHedging(cl *call, params any) {
	if cl.cfg.hedge == nil || cl.op.create || cl.op.allows()&optHedging == 0 {
		return
	}
	var model string
	switch p := params.(type) {
	case *ChatCompletionNewParams:
		model = p.Model
	case *CompletionNewParams:
		model = p.Model
	default:
		return
	}
	cl.hedge = &hedging{policy: cl.cfg.hedge, model: model, times: c.hedges.of(model, cl.stream, cl.cfg.hedge.Samples)}
}

// delay is how long the first attempt may go without an event before the
// hedge is sent.
func (h *hedging) delay() time.Duration {
	p := h.policy
	if p.Delay > 0 {
		return p.Delay
	}
	d, ok := h.times.percentile(p.Percentile, p.MinSamples)
	if !ok {
		return p.MaxDelay
	}
	return min(max(d, p.MinDelay), p.MaxDelay)
}

// hedgeStats holds a client's observed times to first event, per model,
// for the learned hedge delay.
type hedgeStats struct {
	mu sync.Mutex
	m  map[hedgeKey]*latencies
	// timer, if set, replaces the hedge delay's timer: tests fire it when
	// the fake has answered what they wait for, not when time has passed.
	timer func(d time.Duration) (<-chan time.Time, func() bool)
}

// after returns a channel that receives when the hedge delay d is over,
// and the function that stops it.
func (s *hedgeStats) after(d time.Duration) (<-chan time.Time, func() bool) {
	if s.timer != nil {
		return s.timer(d)
	}
	t := time.NewTimer(d)
	return t.C, t.Stop
}

type hedgeKey struct {
	model  string
	stream bool
}

func (s *hedgeStats) of(model string, stream bool, size int) *latencies {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[hedgeKey]*latencies{}
	}
	k := hedgeKey{model, stream}
	l := s.m[k]
	if l == nil {
		l = &latencies{ring: make([]time.Duration, 0, size)}
		s.m[k] = l
	}
	return l
}

// latencies is a ring of the latest times to first event of one model.
type latencies struct {
	mu   sync.Mutex
	ring []time.Duration
	next int
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < cap(l.ring) {
		l.ring = append(l.ring, d)
		return
	}
	l.ring[l.next] = d
	l.next = (l.next + 1) % len(l.ring)
}

// percentile returns the p-th percentile (nearest rank) of the times
// kept, once there are at least minSamples.
func (l *latencies) percentile(p float64, minSamples int) (time.Duration, bool) {
	l.mu.Lock()
	if len(l.ring) < max(minSamples, 1) {
		l.mu.Unlock()
		return 0, false
	}
	s := slices.Clone(l.ring)
	l.mu.Unlock()
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)], true
}

// candidate is one attempt of a hedged race.
type candidate struct {
	n      int
	hedge  bool
	cl     call // the call as this attempt sees it: its own reservation
	cancel context.CancelFunc
	start  time.Time
	done   chan struct{}
	over   bool // its outcome was taken before the race was decided

	resp     *http.Response
	timedOut bool
	err      error
	won      bool          // it produced an event (a complete response)
	took     time.Duration // until it won
}

// race runs attempt n of a hedged call, and its hedge if the attempt has
// produced no event within the delay: it returns the outcome of the
// attempt that won (or, when none did, of the last to fail), its number,
// and the number of the last attempt sent, which the caller's retries go
// on from. The loser is cancelled, its body closed, its reservation
// settled and its attempt reported before race returns.
func (c *Client) race(ctx context.Context, o *outgoing, cl *call, n int, do Next) (resp *http.Response, number, last int, timedOut bool, err error) {
	h, cfg := cl.hedge, &cl.cfg
	if o.built == nil && len(o.body) > 0 && o.getBody == nil {
		b := o.body // set here: two attempts must not both set it
		o.getBody = func() (io.ReadCloser, error) { return bodyReader(b), nil }
	}
	results := make(chan *candidate, 2)
	run := func(k int, pace *reservation, hedge bool) *candidate {
		kctx, cancel := context.WithCancel(ctx)
		cand := &candidate{n: k, hedge: hedge, cl: *cl, cancel: cancel, start: time.Now(), done: make(chan struct{})}
		cand.cl.pace, cand.cl.obs, cand.cl.hedge = pace, nil, nil
		go func() {
			defer close(cand.done)
			cand.resp, cand.timedOut, cand.err = c.attempt(kctx, o, &cand.cl, k, do)
			if cand.err == nil && cand.resp.StatusCode < 400 {
				cand.won = !cl.stream || peekFirstEvent(cand.resp, cancel, cfg.idleTimeout, cfg.maxEventSize)
				cand.took = time.Since(cand.start)
			}
			results <- cand
		}()
		return cand
	}

	first := run(n, cl.pace, false)
	cands := []*candidate{first}
	var tick <-chan time.Time
	stop := func() bool { return false }
	if !h.sent {
		tick, stop = c.hedges.after(h.delay())
	}
	pending := 1
	var final *candidate
	for pending > 0 {
		select {
		case <-tick:
			tick = nil
			if len(results) > 0 { // the first attempt's result came with the tick: no hedge to waste quota on
				continue
			}
			if pace, ok := c.mayHedge(cl, n); ok {
				h.sent, h.hedgeN = true, n+1
				c.log(cfg, "cerebras: hedging", slog.Int("attempt", n+1), slog.String("model", h.model),
					slog.Duration("after", time.Since(first.start)))
				cands = append(cands, run(n+1, pace, true))
				pending++
			}
		case k := <-results:
			pending--
			final, k.over = k, true
			if k.won {
				pending = 0
			}
		}
	}
	stop()
	// The others lose: cancelled at once, then cleaned up once their
	// goroutine is done (at once, too: their requests' contexts are done).
	for _, k := range cands {
		if k == final {
			continue
		}
		k.cancel()
		<-k.done
		lost := final.won && !k.over
		if k.resp != nil {
			k.cl.pace.observe(k.resp)
			k.resp.Body.Close()
		}
		k.cl.pace.settle(k.resp, nil) // sent: the server counted it, and keeps its quota
		kerr := k.err
		if lost {
			kerr = ErrHedgeLost
		}
		if len(cands) > 1 && final.won {
			if final.hedge {
				c.log(cfg, "cerebras: hedge won", slog.Int("attempt", final.n), slog.Int("cancelled", k.n))
			} else {
				c.log(cfg, "cerebras: hedge lost", slog.Int("attempt", final.n), slog.Int("cancelled", k.n))
			}
		}
		if cl.obs != nil {
			cl.obs.Attempt(Attempt{Number: k.n, Response: k.resp, Err: redactErr(kerr, cfg.apiKey), Hedge: k.hedge})
		}
	}
	if final.won {
		// Only the winner's time: a loser's wait, cut short, would pull the
		// percentile to the delay itself, which would then never fall.
		h.times.add(final.took)
	}
	if final.resp == nil || !cl.stream || final.resp.StatusCode >= 400 {
		final.cancel() // a stream's body cancels it when closed (peekFirstEvent)
	}
	cl.pace, cl.reached = final.cl.pace, final.cl.reached
	return final.resp, final.n, cands[len(cands)-1].n, final.timedOut, final.err
}

// mayHedge reports whether the call may send a hedge after attempt n: the
// retry budget has one left, and with pacing on the budget allows it at
// once (then it returns the hedge's reservation).
func (c *Client) mayHedge(cl *call, n int) (*reservation, bool) {
	cfg := &cl.cfg
	if n >= cfg.maxRetries {
		c.log(cfg, "cerebras: not hedging: no retry left", slog.Int("attempt", n+1))
		return nil, false
	}
	if cl.pace == nil {
		return nil, true
	}
	r, ok := cl.pace.hedge()
	if !ok {
		c.log(cfg, "cerebras: not hedging: the rate-limit budget does not allow it now", slog.String("model", cl.hedge.model))
	}
	return r, ok
}

// hedge reserves a paced call's estimate once more, for its hedge, if the
// budget allows it now: never holding it, and never when the budget is not
// known yet.
func (r *reservation) hedge() (*reservation, bool) {
	p, b := r.p, r.b
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	b.roll(now)
	if !b.win[winRequests].known && !b.win[winTokens].known {
		if !b.absent {
			return nil, false
		}
		return &reservation{p: p, b: b, est: r.est, sentAt: now}, true
	}
	for i := range b.win {
		if w := &b.win[i]; w.known && min(r.est[i], w.limit) > w.remaining {
			return nil, false
		}
	}
	n := &reservation{p: p, b: b, est: r.est, sentAt: now}
	if n.counts = b.take(n, r.est); n.counts {
		b.inflight++
	}
	b.broadcast()
	return n, true
}

// peekFirstEvent reads a stream's body until its first event that is a
// message or an error, and reports whether it is a message: the stream
// has produced its first event. It replaces the body with one that gives
// the bytes read again, then the rest (or the error that ended the peek),
// and whose Close also calls cancel. A body that is not an event stream,
// that ends or fails, or that stays silent for idle (0: no limit; the
// stream's idle timeout) before such an event, has not produced one.
func peekFirstEvent(resp *http.Response, cancel context.CancelFunc, idle time.Duration, maxEvent int) bool {
	pb := &peekedBody{rest: resp.Body, cancel: cancel}
	resp.Body = pb
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "text/event-stream" {
			return false
		}
	}
	if maxEvent <= 0 {
		maxEvent = streaming.DefaultMaxEventSize
	}
	var fired atomic.Bool
	if idle > 0 {
		t := time.AfterFunc(idle, func() { fired.Store(true); pb.rest.Close() })
		defer t.Stop()
	}
	// The stream's own decoder reads the first events; the tee keeps what
	// it read, for the stream to read again from its start.
	read := &prefixBuffer{max: maxEvent}
	dec := streaming.NewDecoder(io.TeeReader(pb.rest, read), maxEvent)
	done, isMsg := firstEvent(dec)
	pb.prefix = read.Bytes()
	err := dec.Err()
	var tooLarge *streaming.EventTooLargeError
	switch {
	case done:
		return isMsg
	case errors.As(err, &tooLarge):
		return true // the stream will judge it (an event too large)
	case fired.Load():
		err = fmt.Errorf("%w (%s)", streaming.ErrIdleTimeout, idle)
	case err == nil:
		err = io.EOF
	}
	pb.err = err // after the prefix, instead of reading on
	return false
}

// prefixBuffer keeps what a peek read, up to max bytes: keep-alives alone
// (which a stream reads without keeping) cannot make it grow without
// bound before the first event.
type prefixBuffer struct {
	bytes.Buffer
	max int
}

func (b *prefixBuffer) Write(p []byte) (int, error) {
	if len(p) > b.max-b.Len() {
		return 0, fmt.Errorf("cerebras: more than %d bytes before a stream's first event (the event size limit, WithMaxEventSize)", b.max)
	}
	return b.Buffer.Write(p)
}

// firstEvent reads events until the first that a stream acts on: a message
// with data (done, isMsg) or an error (done). A stream that ends or fails
// before, even in the middle of an event, has not produced one: dec.Err
// says why (nil at the end).
func firstEvent(dec *streaming.Decoder) (done, isMsg bool) {
	for dec.Next() {
		ev := dec.Event()
		if ev.Unterminated {
			return false, false
		}
		switch ev.Type {
		case "error":
			return true, false
		case "", "message":
			if len(bytes.TrimSpace(ev.Data)) > 0 {
				return true, !apierror.InBand(ev.Data)
			}
		}
	}
	return false, false
}

// peekedBody is a stream's body after peekFirstEvent.
type peekedBody struct {
	prefix []byte
	off    int
	err    error // after the prefix, instead of reading on
	rest   io.ReadCloser
	cancel context.CancelFunc
}

func (b *peekedBody) Read(p []byte) (int, error) {
	if b.off < len(b.prefix) {
		n := copy(p, b.prefix[b.off:])
		b.off += n
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *peekedBody) Close() error {
	err := b.rest.Close()
	b.cancel()
	return err
}
