package cerebrastest

import (
	"context"
	"sync"
	"time"
)

// Clock is the fake server's time. What the server does with time — a
// batch's completion window and expiry, the rate limiter's windows — reads
// this clock, never the wall clock, so a test can jump a 24-hour window in
// one call instead of waiting for it:
//
//	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
//	srv := cerebrastest.NewServer(t, cerebrastest.WithClock(clk))
//	…
//	clk.Advance(25 * time.Hour)
//
// A Clock made by NewClock moves only when told to. A server without
// WithClock runs on a clock that follows the wall clock. Its methods are
// safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	follow bool      // follows the wall clock, plus the offset Advance adds
	origin time.Time // the wall time now was taken at, when following
	// moved is closed, and replaced, when Advance moves the clock, so that
	// a wait on the clock (sleep) looks again.
	moved chan struct{}
}

// NewClock returns a stopped clock that reads start until Advance or Set
// moves it.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// wallClock returns a clock that follows the wall clock; Advance still
// moves it ahead.
func wallClock() *Clock {
	t := time.Now()
	return &Clock{now: t, follow: true, origin: t}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.follow {
		return c.now.Add(time.Since(c.origin))
	}
	return c.now
}

// Advance moves the clock d ahead (d < 0 is ignored: the fake's time never
// runs backwards).
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	if c.moved != nil {
		close(c.moved)
		c.moved = nil
	}
	c.mu.Unlock()
}

// sleepUntil waits until the clock reads deadline, or until ctx or stop is
// done, and reports whether the time came. A stopped clock moves only when
// Advance moves it; one that follows the wall clock moves with it too.
func (c *Clock) sleepUntil(ctx context.Context, stop <-chan struct{}, deadline time.Time) bool {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		if c.moved == nil {
			c.moved = make(chan struct{})
		}
		moved := c.moved
		c.mu.Unlock()
		left := deadline.Sub(c.Now())
		if left <= 0 {
			return true
		}
		var tick <-chan time.Time
		if c.follow {
			if timer == nil {
				timer = time.NewTimer(left)
			} else {
				timer.Reset(left)
			}
			tick = timer.C
		}
		select {
		case <-moved:
		case <-tick:
		case <-ctx.Done():
			return false
		case <-stop:
			return false
		}
	}
}

// Set moves the clock to t, if t is later than the clock's time.
func (c *Clock) Set(t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		c.Advance(d)
	}
}

// WithClock runs the server's time on clk (see Clock). Without it the server
// follows the wall clock.
func WithClock(clk *Clock) Option { return func(s *Server) { s.clock = clk } }

// Clock returns the server's clock: the one given with WithClock, or the
// wall-following one the server made.
func (s *Server) Clock() *Clock { return s.clock }
