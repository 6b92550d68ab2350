package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// Defaults of rate-limit pacing (WithRateLimitPacing).
const (
	// DefaultPacingMaxWait is the longest pacing holds a call, unless
	// WithPacingMaxWait says otherwise: long enough for any tokens-minute
	// reset, far too short to sit out a requests-day one by surprise.
	DefaultPacingMaxWait = 60 * time.Second

	// DefaultPacingCompletionTokens is the completion estimate of a call
	// that sets neither max_completion_tokens nor max_tokens, unless
	// WithPacingCompletionTokens says otherwise.
	DefaultPacingCompletionTokens = 1024
)

// The rate-limit windows, as the x-ratelimit-* headers name them; a
// *RateLimitWaitError names one.
const (
	WindowRequestsDay  = "requests-day"
	WindowTokensMinute = "tokens-minute"
)

// WithRateLimitPacing turns rate-limit pacing on or off (off by default).
// With it on, the client keeps what the x-ratelimit-* headers of the latest
// responses said, per model, and shared by every goroutine using the
// client. That state belongs to one *Client: share one client between the
// goroutines (and the code) that use one API key, since two clients on one
// key each pace as if alone (a lower count from the server still corrects
// either). Pacing holds a chat or text completion (streaming or not) that would
// exceed the remaining requests of the day or tokens of the minute until
// that budget resets, instead of sending it into a 429. A call's token cost
// is estimated before it is sent (a quarter of the bytes of its encoded
// request, tools and response format included, where an image given as
// base64 PNG or JPEG data counts the tokens of its size instead, as
// ImageTokens says; plus max_completion_tokens or max_tokens times n, or
// WithPacingCompletionTokens) and reserved at once, so concurrent calls do
// not all pass on one stale "remaining"; the usage of the answer corrects
// the estimate (for a stream, the usage of its final chunk, when it comes:
// a stream left unread keeps its estimate; a stream replayed before its
// first event books its replay too). A hold honours the context and lasts
// at most WithPacingMaxWait; a reset further away fails the call at once
// with a *RateLimitWaitError. A held call is logged at debug level
// (WithLogger): its model, the window that holds it and how long until its
// reset. Until the first response of a model has told its budget, one call
// of that model is sent at a time, and the others wait for its answer
// (WithPacingMaxWait bounds that wait too); a server whose successes carry
// no rate-limit headers is not paced. Retries of a 429 still apply. Pacing
// can be turned off for one call with WithRateLimitPacing(false).
func WithRateLimitPacing(on bool) Option {
	return func(c *config) error {
		c.set |= optRateLimitPacing
		c.pacing = on
		return nil
	}
}

// WithPacingMaxWait sets the longest rate-limit pacing holds a call
// (default DefaultPacingMaxWait): when the budget it needs resets later, the
// call fails at once with a *RateLimitWaitError; a call still held when
// the maximum wait has passed (the budget did not free up) fails with one
// then. Raise it for work that may wait hours for a requests-day reset.
// Zero means never hold: a call that the budget does not allow now, or
// that would wait for the first answer of its model, fails at once with a
// *RateLimitWaitError, as a call would get a 429 without pacing, but
// without sending it.
func WithPacingMaxWait(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return paramError("WithPacingMaxWait", "negative pacing max wait %s", d)
		}
		c.set |= optPacingMaxWait
		c.pacingMaxWait = d
		return nil
	}
}

// WithPacingCompletionTokens sets the completion tokens rate-limit pacing
// reserves for a call that sets neither max_completion_tokens nor max_tokens
// (default DefaultPacingCompletionTokens). Setting max_completion_tokens is
// better: the API's own limiter counts it before it answers.
func WithPacingCompletionTokens(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return paramError("WithPacingCompletionTokens", "pacing completion tokens %d must be positive", n)
		}
		c.set |= optPacingCompletionTokens
		c.pacingCompletion = n
		return nil
	}
}

// RateLimitWaitError is the error of a call that rate-limit pacing did not
// send because the budget it needs resets later than the maximum wait
// allows (WithPacingMaxWait). errors.Is(err, ErrRateLimit) holds.
type RateLimitWaitError struct {
	// Model is the model whose budget is spent.
	Model string
	// Window is the budget: WindowRequestsDay or WindowTokensMinute; empty
	// when the budget is still unknown (the model's first call, out to
	// learn it, had not answered within the maximum wait).
	Window string
	// Wait is how long until that budget resets, as far as the client
	// knows; 0 when no response has said yet.
	Wait time.Duration
	// MaxWait is the maximum wait that was exceeded.
	MaxWait time.Duration
}

func (e *RateLimitWaitError) Error() string {
	if e.Window == "" {
		return fmt.Sprintf("cerebras: rate-limit pacing: the budget of model %s is still unknown: its first call has not answered within the maximum wait of %s (WithPacingMaxWait)",
			e.Model, e.MaxWait)
	}
	return fmt.Sprintf("cerebras: rate-limit pacing: the %s budget of model %s resets in %s, beyond the maximum wait of %s (WithPacingMaxWait)",
		e.Window, e.Model, e.Wait.Round(time.Millisecond), e.MaxWait)
}

// Is reports target == ErrRateLimit, so that a call pacing refused is
// handled like one the API refused.
func (e *RateLimitWaitError) Is(target error) bool { return target == ErrRateLimit }

// The windows' indexes in budget.win and in costs.
const (
	winRequests = iota
	winTokens
)

var windowNames = [2]string{WindowRequestsDay, WindowTokensMinute}

// pacer is a client's rate-limit state: one budget per model (the API
// limits each model separately). Its zero value is ready; it allocates
// nothing until a paced call.
type pacer struct {
	mu      sync.Mutex
	budgets map[string]*budget
	now     func() time.Time // tests stop it
	// onHold, if set, is called when a call starts to wait (tests
	// synchronise on it).
	onHold func(model string)
}

// budget is what the client knows of one model's limits.
type budget struct {
	win      [2]paceWindow
	probing  bool // a call is out to learn the budget; the others wait for it
	absent   bool // a response had no rate-limit headers: not paced
	inflight int  // reservations not yet settled
	changed  chan struct{}
}

// paceWindow is one budget as the client sees it: what the server said,
// less the client's reservations since.
type paceWindow struct {
	known     bool
	limit     int64
	remaining int64
	// resetAt is the latest the window can reset: the reset the server
	// sent, from when its response arrived. Zero: not known since the last
	// reset.
	resetAt time.Time
	// start is when the client saw the window begin (the last resetAt).
	// A response to a call sent before it may describe the previous window,
	// so it is not believed.
	start time.Time
	gen   int // counts resets, so a reservation of an old window is not corrected into a new one
	// pending is the cost of this window's reservations still in flight.
	// At a reset it is carried into the new window, since those calls may
	// reach the server after its reset.
	pending int64
}

// reservation is one call's claim on a budget.
type reservation struct {
	p     *pacer
	b     *budget
	est   [2]int64 // the call's estimate, which a stream's replay takes again
	cost  [2]int64 // what was taken from each window
	took  [2]bool
	gen   [2]int
	probe bool
	// learn marks a call sent to learn the state of a window whose reset
	// is not known (try): its answer is believed even when it is higher
	// than the client's count.
	learn  bool
	counts bool // counted in budget.inflight
	sentAt time.Time
	done   bool
	booked bool // a stream's usage was booked after settle
	// synced says that observe set the window's remaining from a server
	// count that already holds this call's real cost: settle and book do
	// not correct it again.
	synced [2]bool
	// sent says that the server may have counted the call although no
	// answer says so (an attempt got a success status, or wrote its request
	// and then failed): settle keeps the estimate instead of giving it back.
	sent atomic.Bool
}

func (p *pacer) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p *pacer) budget(model string) *budget {
	if p.budgets == nil {
		p.budgets = map[string]*budget{}
	}
	b := p.budgets[model]
	if b == nil {
		b = &budget{changed: make(chan struct{})}
		p.budgets[model] = b
	}
	return b
}

// paceCost estimates a call's cost in requests and tokens: a quarter of
// size, the bytes of the encoded request (messages or prompt, tools,
// response format: all the server may count as prompt), plus the
// completion limit times the number of choices. The base64 data of an
// image part whose size can be read counts the image tokens of that size
// instead of its bytes: a quarter of the bytes of a 1 MB PNG would be some
// 330,000 tokens, where the API counts at most 280. ok is false for calls
// that are not paced.
func paceCost(cfg *config, params any, size int) (model string, cost [2]int64, ok bool) {
	completion := func(limits ...*int) int64 {
		for _, l := range limits {
			if l != nil && *l > 0 {
				return int64(*l)
			}
		}
		if cfg.pacingCompletion > 0 {
			return int64(cfg.pacingCompletion)
		}
		return DefaultPacingCompletionTokens
	}
	choices := func(n *int) int64 {
		if n != nil && *n > 1 {
			return int64(*n)
		}
		return 1
	}
	prompt := int64(size+3) / 4
	switch p := params.(type) {
	case *ChatCompletionNewParams:
		if imageBytes, imageTokens := imageTokensIn(p.Messages); imageBytes > 0 {
			prompt = int64(max(size-imageBytes, 0)+3)/4 + int64(imageTokens)
		}
		return p.Model, [2]int64{1, prompt + choices(p.N)*completion(p.MaxCompletionTokens, p.MaxTokens)}, true
	case *CompletionNewParams:
		return p.Model, [2]int64{1, prompt + choices(p.N)*completion(p.MaxTokens)}, true
	}
	return "", cost, false
}

// reserve takes a paced call's cost from its model's budget, holding the
// call until the budget allows it; size is the bytes of its encoded
// request (before compression). It returns nil for a call that is not
// paced.
func (p *pacer) reserve(ctx context.Context, cfg *config, params any, size int) (*reservation, error) {
	model, cost, ok := paceCost(cfg, params, size)
	if !ok {
		return nil, nil
	}
	maxWait := cfg.pacingMaxWait
	var (
		timer *time.Timer
		held  bool
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	deadline := p.clock().Add(maxWait)
	for {
		p.mu.Lock()
		now := p.clock()
		b := p.budget(model)
		r, wake, window, err := b.try(now, deadline, cost)
		changed := b.changed
		p.mu.Unlock()
		if r != nil {
			r.p, r.est = p, cost
			return r, nil
		}
		if err != nil {
			err.Model, err.MaxWait = model, maxWait
			return nil, err
		}
		if !held {
			held = true
			if cfg.logger != nil {
				name := "unknown" // waiting for the first answer of the model
				if window >= 0 {
					name = windowNames[window]
				}
				logAttrs(ctx, cfg, "cerebras: rate-limit pacing holds a call",
					[]slog.Attr{slog.String("model", model), slog.String("window", name), slog.Duration("wait", max(wake.Sub(now), 0))})
			}
			if p.onHold != nil {
				p.onHold(model)
			}
		}
		var tick <-chan time.Time
		if !wake.IsZero() {
			d := max(wake.Sub(now), 0)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cerebras: %w", context.Cause(ctx))
		case <-changed: // Reset, next time round, discards a pending tick (Go 1.23 timers)
		case <-tick:
		}
	}
}

// try takes cost from the budget, if it allows it now. If not, it returns
// when to look again (a reset, or the deadline; a settled call or a
// response may allow it sooner; zero: only then) and the window that holds
// the call (-1: the budget is not known yet), or the error when the wait
// would pass the deadline.
func (b *budget) try(now, deadline time.Time, cost [2]int64) (*reservation, time.Time, int, *RateLimitWaitError) {
	b.roll(now)
	if !b.win[winRequests].known && !b.win[winTokens].known {
		switch {
		case b.absent: // no headers: nothing to pace on
			return &reservation{b: b, sentAt: now}, time.Time{}, -1, nil
		case !b.probing:
			b.probing = true
			b.inflight++
			return &reservation{b: b, probe: true, counts: true, sentAt: now}, time.Time{}, -1, nil
		}
		// The probe's answer will tell, within one round trip; the
		// maximum wait applies all the same.
		if !now.Before(deadline) {
			return nil, time.Time{}, -1, &RateLimitWaitError{}
		}
		return nil, deadline, -1, nil
	}
	var (
		wake    time.Time
		blocked = -1
		freed   bool // a settlement may free budget before the reset
		unknown = true
	)
	for i := range b.win {
		w := &b.win[i]
		if !w.known {
			continue
		}
		c := min(cost[i], w.limit) // a call above the whole limit waits for a full window
		if c <= w.remaining {
			continue
		}
		unknown = unknown && w.resetAt.IsZero()
		if blocked < 0 || w.resetAt.After(wake) {
			blocked, wake = i, w.resetAt
		}
		freed = freed || (i == winTokens && b.inflight > 0)
	}
	// A window whose reset is not known (it reset while calls were in
	// flight, whose answers are not believed) with nothing in flight: no
	// answer is coming to tell its state, so this call goes out to learn
	// it, as the first call of a model does.
	if blocked < 0 || (unknown && b.inflight == 0) {
		r := &reservation{b: b, counts: true, learn: blocked >= 0, sentAt: now}
		b.take(r, cost)
		b.inflight++
		return r, time.Time{}, -1, nil
	}
	var wait time.Duration
	if !wake.IsZero() {
		wait = wake.Sub(now)
	}
	if !now.Before(deadline) || (wake.After(deadline) && !freed) {
		return nil, time.Time{}, blocked, &RateLimitWaitError{Window: windowNames[blocked], Wait: wait}
	}
	if wake.IsZero() || wake.After(deadline) {
		wake = deadline
	}
	return nil, wake, blocked, nil
}

// again takes a stream's estimate once more for its replay (replay.go):
// one more request, sent at once, without a hold (the stream was already
// let through; a 429 of the replay is retried like any other). It returns
// the replay's reservation.
func (r *reservation) again() *reservation {
	if r == nil {
		return nil
	}
	p, b := r.p, r.b
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	b.roll(now)
	n := &reservation{p: p, b: b, est: r.est, sentAt: now}
	if n.counts = b.take(n, r.est); n.counts {
		b.inflight++
	}
	return n
}

// take takes cost from the known windows for r, and reports whether any
// window is known.
func (b *budget) take(r *reservation, cost [2]int64) (known bool) {
	for i := range b.win {
		if w := &b.win[i]; w.known {
			c := min(cost[i], w.limit) // a call above the whole limit waits for a full window
			w.remaining -= c
			w.pending += c
			r.cost[i], r.took[i], r.gen[i] = c, true, w.gen
			known = true
		}
	}
	return known
}

// markSent records that the server may have counted the call (see
// reservation.sent).
func (r *reservation) markSent() {
	if r != nil {
		r.sent.Store(true)
	}
}

// roll refills the windows whose reset has passed.
func (b *budget) roll(now time.Time) {
	for i := range b.win {
		w := &b.win[i]
		if w.known && !w.resetAt.IsZero() && !now.Before(w.resetAt) {
			w.remaining, w.start, w.resetAt = w.limit-w.pending, w.resetAt, time.Time{}
			w.pending = 0
			w.gen++
		}
	}
}

func (b *budget) broadcast() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// observe takes in what a response's rate-limit headers say. Within a
// window the client's own count is kept, since the server's remaining does
// not yet count the calls still on their way; a lower count from the
// server (another user of the same key) is believed, less the cost of the
// other calls in flight (and of this one, for an error status, which the
// server did not count), and is then not corrected again by settle. Only a
// success without rate-limit headers says that the server sends none: an
// error (a 502 from a proxy, a 401) may come from elsewhere.
func (r *reservation) observe(resp *http.Response) {
	if r == nil || resp == nil {
		return
	}
	rl := apierror.ParseRateLimit(resp.Header)
	p, b := r.p, r.b
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	b.roll(now)
	if r.probe {
		r.probe, b.probing = false, false
	}
	defer b.broadcast()
	counted := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !rl.RequestsDay.Present && !rl.TokensMinute.Present {
		if counted && !b.win[winRequests].known && !b.win[winTokens].known {
			b.absent = true
		}
		return
	}
	b.absent = false
	for i, rw := range [2]RateLimitWindow{rl.RequestsDay, rl.TokensMinute} {
		if !rw.Present {
			continue
		}
		w := &b.win[i]
		resetAt := now.Add(rw.Reset)
		limit := max(rw.Limit, rw.Remaining)
		if !w.known {
			// The server's count already holds this call, which took nothing.
			*w = paceWindow{known: true, limit: limit, remaining: rw.Remaining, resetAt: resetAt, start: r.sentAt}
			continue
		}
		if r.sentAt.Before(w.start) {
			continue // sent before the last reset: maybe about the previous window
		}
		w.limit = limit
		// server is the server's count as the client's holds this call:
		// less its estimate when the server did not count it (an error).
		// Only a count below the client's, which the client's own calls
		// cannot explain, is believed; it then counts the other calls in
		// flight, which the server may not have seen yet.
		var own int64
		if r.took[i] && r.gen[i] == w.gen && !r.done {
			own = r.cost[i]
		}
		server := rw.Remaining
		if !counted {
			server -= own
		}
		if server < w.remaining || r.learn {
			w.remaining = server - (w.pending - own)
			r.synced[i] = counted
		}
		if w.resetAt.IsZero() || resetAt.Before(w.resetAt) {
			w.resetAt = resetAt
		}
	}
}

// settle ends a reservation once its call is over. A call that the server
// did not count gives its cost back: an error status (a 429 included:
// observe took in its headers), or no answer when no attempt may have
// reached the server (reservation.sent). An answer with usage books its
// real total instead of the estimate, unless observe already set the count
// from the server's; one without (a stream, which books its usage later:
// book) keeps the estimate, and so does a call the server may have counted
// without an answer saying so (a timeout, a response too large, a context
// that ended after the response came).
func (r *reservation) settle(resp *http.Response, usage *Usage) {
	if r == nil {
		return
	}
	p, b := r.p, r.b
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	if r.probe {
		r.probe, b.probing = false, false
	}
	if r.counts {
		b.inflight--
	}
	b.roll(p.clock())
	release := !r.sent.Load() && (resp == nil || resp.StatusCode >= 400)
	for i := range b.win {
		w := &b.win[i]
		if !r.took[i] || w.gen != r.gen[i] {
			continue // a call of an earlier window, carried over at the reset: keep it
		}
		w.pending -= r.cost[i]
		switch {
		case release:
			w.remaining += r.cost[i]
		case i == winTokens && usage != nil && resp != nil && resp.StatusCode < 400 && !r.synced[i]:
			w.remaining += r.cost[i] - int64(usage.TotalTokens)
		}
		w.remaining = min(w.remaining, w.limit)
	}
	b.broadcast()
}

// book replaces a stream's estimate, kept by settle when the stream
// opened, with the usage its final chunk reports: once, and only while the
// window the estimate was taken from lasts.
func (r *reservation) book(usage *Usage) {
	if r == nil || usage == nil {
		return
	}
	p, b := r.p, r.b
	p.mu.Lock()
	defer p.mu.Unlock()
	if !r.done || r.booked {
		return
	}
	r.booked = true
	b.roll(p.clock())
	if w := &b.win[winTokens]; r.took[winTokens] && w.gen == r.gen[winTokens] && !r.synced[winTokens] {
		w.remaining = min(w.remaining+r.cost[winTokens]-int64(usage.TotalTokens), w.limit)
		b.broadcast()
	}
}

// finishPaced is finish for a completion, which also settles the call's
// reservation, if paced, with the answer's usage.
func finishPaced[T any](cl *call, resp *http.Response, err error, usage func(*T) *Usage) (*T, error) {
	v, err := finish[T](cl, resp, err)
	if cl.pace != nil {
		var u *Usage
		if v != nil {
			u = usage(v)
		}
		cl.pace.settle(resp, u)
	}
	return v, err
}
