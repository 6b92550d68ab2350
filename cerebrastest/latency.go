package cerebrastest

import (
	"net/http"
	"time"
)

// WithFirstEventDelay makes the fake slow to answer, as the real API
// sometimes is: the n-th chat or text completion the server answers (from
// 0, in the order they are answered, retries and duplicates included)
// waits delay(n) before its first event. A stream sends its headers at
// once, then waits; a call that does not stream waits before its response.
// The wait runs on the server's Clock (WithClock): a stopped clock holds it
// until Advance moves the clock past it, so a test decides when each answer
// comes instead of racing the wall clock. A wait ends early, and the answer
// is dropped, when the client gives up on the request or the server stops.
//
// delay is called once per request, from the goroutine that answers it, so
// that it can also tell a test which request has arrived; the wait runs
// from the clock's time before the call, so a test that moves the clock
// after it has seen the call moves it toward that answer. It must be safe
// for concurrent use. HeavyTail builds a distribution with a tail.
func WithFirstEventDelay(delay func(n int) time.Duration) Option {
	return func(s *Server) { s.firstEvent = delay }
}

// HeavyTail returns a first-event delay distribution for WithFirstEventDelay:
// most answers wait base, and a share p of them (0 ≤ p ≤ 1) waits tail
// instead, as the slow requests of a loaded service do. Which ones are slow
// depends only on seed and n, so a run can be repeated exactly.
func HeavyTail(base, tail time.Duration, p float64, seed uint64) func(n int) time.Duration {
	return func(n int) time.Duration {
		// splitmix64 of (seed, n): neighbouring requests (a call and its
		// retry or hedge) draw independently.
		x := seed + uint64(n+1)*0x9e3779b97f4a7c15
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		x ^= x >> 31
		if float64(x>>11)/(1<<53) < p {
			return tail
		}
		return base
	}
}

// FirstEventDelays returns how many chat and text completions have drawn a
// first-event delay (WithFirstEventDelay): the n the next one gets.
func (s *Server) FirstEventDelays() int { return int(s.delayed.Load()) }

// firstEventDelay waits for the first-event delay of this answer, if the
// server has one, and reports whether to go on answering. A stream's
// headers go out first.
func (x *exchange) firstEventDelay(stream bool) bool {
	s := x.s
	if s.firstEvent == nil {
		return true
	}
	// The wait runs from the draw: a test that saw it and then moves the
	// clock moves it past the answer's time.
	start := s.clock.Now()
	n := int(s.delayed.Add(1) - 1)
	d := s.firstEvent(n)
	if stream {
		if f, ok := x.w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if d <= 0 {
		return true
	}
	return s.clock.sleepUntil(x.r.Context(), s.stop, start.Add(d))
}
