package streaming

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/apierror"
	"github.com/cerebras-go/cerebras/internal/decode"
	"github.com/cerebras-go/cerebras/internal/decodedsize"
	"github.com/cerebras-go/cerebras/internal/rawjson"
	"github.com/cerebras-go/cerebras/internal/redact"
)

// ErrTruncated reports a stream that ended before its `data: [DONE]` event,
// such as a connection closed by a proxy or reset, wherever it was cut. It
// wraps io.ErrUnexpectedEOF. The error of a lost connection wraps the read
// error too. When the cut fell in the middle of an event, the error also
// wraps what that partial event gave, for diagnosis: the *DecodeError of
// its data (or the *client.APIError of a partial error event), reachable
// with errors.As.
var ErrTruncated = fmt.Errorf("streaming: stream ended before [DONE]: %w", io.ErrUnexpectedEOF)

// ErrIdleTimeout reports a stream that sent no event for longer than the
// idle timeout set with WithIdleTimeout, keep-alives aside. Like a net.Error
// it reports Timeout() true, so code that checks for timeouts that way sees
// it too.
var ErrIdleTimeout error = idleTimeoutError{}

type idleTimeoutError struct{}

func (idleTimeoutError) Error() string { return "streaming: no event within the idle timeout" }
func (idleTimeoutError) Timeout() bool { return true }

// DecodeError reports an event whose data is not valid JSON for the stream's
// element type.
type DecodeError struct {
	// Data is the event's data, truncated to 256 bytes.
	Data []byte
	// Err is the JSON decoding error.
	Err error
}

// Error quotes the offending data.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("streaming: invalid event data: %v: %q", e.Err, e.Data)
}

// Unwrap returns the JSON decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Option configures a Stream.
type Option func(*config)

type config struct {
	maxEventSize int
	idleTimeout  time.Duration
	secret       string
	reopen       ReopenFunc
	onEvent      any // a func(*T), checked against T by NewStream
	onEnd        func(err error, closedEarly bool)
	clock        clock // of the idle timeout; nil for the system's (tests set a fake)
}

// WithRedaction removes secret (the API key) from the errors the stream
// returns, should the server echo it in an error event or bad data. A secret
// shorter than 20 bytes is removed only where it is a whole token, so that
// a test key such as "test" does not mangle "X-Cerebrastest-Fault".
func WithRedaction(secret string) Option { return func(c *config) { c.secret = secret } }

// WithMaxEventSize sets the largest line or event the stream accepts, in
// bytes (default DefaultMaxEventSize, 32 MiB). A larger one fails the stream
// with an *EventTooLargeError. So does an event whose decoded value would
// take more than 4 times its size plus 64 KiB of memory (Decoded): one event
// never costs more than a small multiple of its bytes.
func WithMaxEventSize(n int) Option { return func(c *config) { c.maxEventSize = n } }

// WithIdleTimeout fails the stream with ErrIdleTimeout when it waits longer
// than d for the server's next event: an element, [DONE] or an error.
// Keep-alives do not count as events, so a server that stops producing
// events but keeps the connection open still times out: comments
// (`: keep-alive`), blank lines, events without data, and named events the
// stream skips (`event: ping`). Only waiting on the network is timed: the
// caller's own pauses between calls to Next, and events already received,
// never count. Zero (the default) waits for as long as the request's
// context allows.
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// ReopenFunc sends a stream's request again after a failure cause that
// ended the stream before it delivered any element, and returns the new
// response, a successful `text/event-stream` one; or it returns the error
// the stream fails with instead (cause itself when the failure is not worth
// a retry). The old body is already closed. ctx is done when the stream is
// closed; the new response's body must not outlive it.
type ReopenFunc func(ctx context.Context, cause error) (*http.Response, error)

// WithReopen lets the stream replay its request when it fails before Next
// has returned a single element, so that the caller never sees text twice:
// when the connection breaks or the body ends before [DONE], when the idle
// timeout fires, or when an error event arrives. The stream then reads the
// response reopen returns, from its start. A stream closed by its caller,
// a done request context, an event too large and an element that does not
// decode are never replayed. Package client sets it to retry a stream
// within the call's retry budget; most users never need it.
func WithReopen(reopen ReopenFunc) Option { return func(c *config) { c.reopen = reopen } }

// WithOnEvent calls f with each element, after it is decoded and before Next
// returns it; f must not keep the pointer. It suits observers that read what
// passes by — package client books a stream's final usage with it when
// pacing is on. A stream has one hook, the last given; it applies only to a
// Stream[T] of the same T.
func WithOnEvent[T any](f func(*T)) Option { return func(c *config) { c.onEvent = f } }

// WithOnEnd calls f once, when the stream is over: at its end (err nil),
// when it fails (err is what Err returns), or when it is closed before
// either (closedEarly; err nil), as breaking out of All does. f may be
// called from the goroutine that calls Close, and must return quickly.
// Package client ends an Observer's operation with it.
func WithOnEnd(f func(err error, closedEarly bool)) Option {
	return func(c *config) { c.onEnd = f }
}

// Stream is a stream of typed events decoded from a server-sent event
// response. It is not safe for concurrent use, except that Close may be
// called from another goroutine to abort a blocked Next.
//
//	for stream.Next() {
//		chunk := stream.Current()
//	}
//	if err := stream.Err(); err != nil { … }
type Stream[T any] struct {
	resp    *http.Response
	body    io.ReadCloser
	dec     *Decoder
	idle    *idleReader // nil without an idle timeout
	decode  func([]byte, *T) (bool, error)
	sizes   *decodedsize.Type // of T, to bound what an event may take decoded
	secret  string
	cur     T
	err     error
	done    bool
	ctxDone <-chan struct{} // the request context's Done, checked before each event
	closed  atomic.Bool

	// The replay of a stream that failed before its first element.
	cfg     config     // the options, for the readers of a new response
	yielded bool       // Next has returned true: a failure is no longer replayed
	mu      sync.Mutex // guards body, idle and life against Close during a reopen
	life    context.Context
	end     context.CancelFunc // ends life, in Close

	onEvent func(*T)    // WithOnEvent's, or nil
	ended   atomic.Bool // WithOnEnd's hook was called (or there is none to call)
}

// NewStream returns a stream that decodes the events of resp's body into T.
// resp must be a successful `text/event-stream` response; the stream owns
// its body and closes it at the end, on error, or on Close.
//
// An event whose data is `[DONE]` ends the stream cleanly. An event whose
// data has a top-level "error" that is not null, or an `event: error`, ends it
// with a *client.APIError (the same type as HTTP errors). Named events of
// other types are skipped. The end of the body before `[DONE]` is
// ErrTruncated, even in the middle of an event.
func NewStream[T any](resp *http.Response, opts ...Option) *Stream[T] {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	s := &Stream[T]{decode: decoderFor[T](), sizes: decodedsize.Of(reflect.TypeFor[T]()), secret: cfg.secret, cfg: cfg}
	s.onEvent, _ = cfg.onEvent.(func(*T))
	s.read(resp)
	return s
}

// read makes resp the response the stream reads.
func (s *Stream[T]) read(resp *http.Response) {
	cfg := &s.cfg
	s.resp, s.body, s.idle, s.ctxDone = resp, resp.Body, nil, nil
	if resp.Request != nil {
		s.ctxDone = resp.Request.Context().Done()
	}
	var r io.Reader = resp.Body
	if cfg.idleTimeout > 0 {
		s.idle = newIdleReader(resp.Body, cfg.idleTimeout, cfg.clock)
		r = s.idle
	}
	s.dec = NewDecoder(r, cfg.maxEventSize)
}

// decoderFor picks the fastest decoder for T: the single-pass decoder
// generated from the spec when T has one (decode.For, the one list of
// them), encoding/json for anything else. Each element of a T that keeps
// its JSON (RawJSON) keeps a copy of its event's data of its own: the SSE
// decoder reuses its buffer, and an element kept by the caller must not
// hold on to more than its own bytes.
func decoderFor[T any]() func([]byte, *T) (bool, error) {
	fn := decode.For[T]()
	if fn == nil {
		if set := rawjson.Setter[T](); set != nil {
			return func(data []byte, v *T) (bool, error) {
				isErr, err := decodeJSON(data, v)
				if !isErr && err == nil {
					set(v, rawjson.Kept(bytes.Clone(data)))
				}
				return isErr, err
			}
		}
		return decodeJSON[T]
	}
	fast := newEventDecoder(fn).decode
	if _, chunk := any((*T)(nil)).(*gen.ChatCompletionChunk); chunk {
		return fast // chat chunks report the generated decoder's own errors (*SyntaxError …)
	}
	return func(data []byte, v *T) (bool, error) {
		isErr, err := fast(data, v)
		if err != nil {
			// Other streams always reported encoding/json's errors; bad
			// events are rare, decoding one twice is cheap.
			var again T
			return decodeJSON(data, &again)
		}
		return isErr, err
	}
}

// decodeJSON decodes data into v unless data is an in-band error object.
func decodeJSON[T any](data []byte, v *T) (bool, error) {
	if apierror.InBand(data) {
		return true, nil
	}
	return false, json.Unmarshal(data, v)
}

// Next advances to the next element and reports whether there is one.
func (s *Stream[T]) Next() bool {
	if s.done || s.err != nil {
		return false
	}
	// Each call waits for one event the stream acts on, with the whole idle
	// timeout, which what is no event (keep-alives) does not renew.
	s.idle.restart()
	for {
	events:
		for s.dec.Next() {
			// Events already buffered are not delivered after cancellation.
			select {
			case <-s.ctxDone:
				err, _ := s.readError(nil)
				s.fail(err)
				return false
			default:
			}
			ev := s.dec.Event()
			switch ev.Type {
			case "", "message":
			case "error":
				err := s.apiError(ev.Data)
				if ev.Unterminated && !json.Valid(ev.Data) {
					err = cutOff(err) // the error's text may be partial too
				}
				if s.stop(err, true) {
					continue events
				}
				return false
			default:
				continue // a named event this SDK does not know: not a chunk
			}
			if bytes.HasPrefix(ev.Data, []byte("[DONE]")) {
				s.finish()
				return false
			}
			if len(bytes.TrimSpace(ev.Data)) == 0 {
				continue
			}
			if err := s.checkDecodedSize(ev.Data); err != nil {
				s.fail(err)
				return false
			}
			var zero T
			s.cur = zero // decode into fresh memory: earlier elements stay intact
			isErr, err := s.decode(ev.Data, &s.cur)
			switch {
			case isErr:
				if s.stop(s.apiError(ev.Data), true) {
					continue events
				}
				return false
			case err != nil:
				// Cut after redacting, so a key across the cut leaves no prefix.
				data, _ := redact.Prefix(ev.Data, s.secret, 256, false)
				err = &DecodeError{Data: bytes.Clone(data), Err: err}
				if ev.Unterminated {
					err = cutOff(err) // not bad data: the rest never came
				}
				if s.stop(err, ev.Unterminated) {
					continue events
				}
				return false
			}
			s.yielded = true
			if s.onEvent != nil {
				s.onEvent(&s.cur)
			}
			return true
		}
		if !s.stop(s.readError(s.dec.Err())) {
			return false
		}
	}
}

// stop ends the stream with err, or, when err is a failure worth a replay
// (replayable) and no element was delivered yet, reads the response the
// reopen hook returns instead and reports true.
func (s *Stream[T]) stop(err error, replayable bool) bool {
	if !replayable || s.yielded || s.cfg.reopen == nil || err == nil {
		s.fail(err)
		return false
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		s.fail(nil)
		return false
	}
	if s.life == nil {
		s.life, s.end = context.WithCancel(context.Background())
	}
	body, idle := s.body, s.idle
	s.mu.Unlock()
	idle.stop()
	_ = body.Close() // releases the connection before the retry
	resp, rerr := s.cfg.reopen(s.life, err)
	if rerr == nil && (resp == nil || resp.Body == nil) {
		rerr = fmt.Errorf("streaming: the reopen hook returned no response after: %w", err)
	}
	s.mu.Lock()
	closed := s.closed.Load()
	if rerr == nil && !closed {
		s.read(resp)
	}
	s.mu.Unlock()
	switch {
	case closed:
		if rerr == nil {
			_ = resp.Body.Close()
		}
		s.fail(nil) // the caller closed the stream
		return false
	case rerr != nil:
		s.fail(rerr)
		return false
	}
	return true
}

// checkDecodedSize refuses an event whose value would take more than
// decodedsize.Limit of memory, before decoding it.
func (s *Stream[T]) checkDecodedSize(data []byte) error {
	if limit, over := s.sizes.Over(data); over {
		return &EventTooLargeError{Limit: limit, Decoded: true, Size: len(data)}
	}
	return nil
}

// cutOff reports the failure err of an event that the end of the stream
// cut off as a truncation that wraps err.
func cutOff(err error) error {
	return fmt.Errorf("%w: the last event was cut off: %w", ErrTruncated, err)
}

// apiError builds the error of an in-band error event.
func (s *Stream[T]) apiError(data []byte) error {
	e := apierror.FromStreamEvent(s.resp, data, s.secret)
	e.Redact(s.secret)
	return e
}

// readError explains why the decoder stopped before [DONE], and reports
// whether a replay may cure it: not when the caller closed the stream or
// its context is done, nor for an event too large.
func (s *Stream[T]) readError(err error) (_ error, replayable bool) {
	switch {
	case s.closed.Load():
		return nil, false // the caller closed the stream
	case s.idle != nil && s.idle.fired.Load():
		return fmt.Errorf("%w (%s)", ErrIdleTimeout, s.idle.timeout), true
	}
	if req := s.resp.Request; req != nil {
		if cerr := context.Cause(req.Context()); cerr != nil {
			return fmt.Errorf("streaming: %w", cerr), false
		}
	}
	switch {
	case err == nil:
		return ErrTruncated, true
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %v", ErrTruncated, err), true
	default:
		var tooLarge *EventTooLargeError
		if errors.As(err, &tooLarge) {
			return err, false
		}
		return fmt.Errorf("%w: connection lost: %w", ErrTruncated, err), true
	}
}

// String describes the stream for a log: its element type, the response's
// status and request id, and its state. It never prints the key the stream
// redacts ("key [REDACTED]" says there is one), nor the response's headers.
func (s *Stream[T]) String() string {
	if s == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "streaming.Stream[%s]{", reflect.TypeFor[T]())
	if s.resp != nil {
		fmt.Fprintf(&b, "status %d, ", s.resp.StatusCode)
		if id := s.resp.Header.Get(apierror.HeaderXRequestID); id != "" {
			fmt.Fprintf(&b, "request id %s, ", redact.String(id, s.secret))
		}
	}
	switch {
	case s.done:
		b.WriteString("done")
	case s.err != nil:
		b.WriteString("failed: " + redact.String(s.err.Error(), s.secret))
	case s.closed.Load():
		b.WriteString("closed")
	default:
		b.WriteString("open")
	}
	if s.secret != "" {
		b.WriteString(", key " + redact.Mask)
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is String for %#v: the fields of a Stream hold the key it
// redacts, so they are never printed.
func (s *Stream[T]) GoString() string {
	if s == nil {
		return "(*streaming.Stream)(nil)"
	}
	return "&" + s.String()
}

// Format prints String for every verb (GoString for %#v), so that no verb
// or flag prints the stream's fields, among them the key it redacts.
func (s *Stream[T]) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// Current returns the element read by the last call to Next.
func (s *Stream[T]) Current() T { return s.cur }

// Err returns the error that ended the stream, or nil if it ended with
// `[DONE]` or was closed by the caller.
func (s *Stream[T]) Err() error { return s.err }

// Response returns the HTTP response: its headers carry the request id and
// the rate limits.
func (s *Stream[T]) Response() *http.Response { return s.resp }

// Close stops the stream and releases its connection. It is idempotent and
// may be called from another goroutine to abort a blocked Next.
func (s *Stream[T]) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.over(nil, true)
	s.mu.Lock()
	body, idle, end := s.body, s.idle, s.end
	s.mu.Unlock()
	if end != nil {
		end() // aborts a reopen in progress, and ends what it opened
	}
	idle.stop()
	return body.Close()
}

// All returns an iterator over the stream's elements. A terminal error is
// yielded once, with the zero element, as the last pair. Breaking out of the
// loop, or reaching its end, closes the stream.
//
//	for chunk, err := range stream.All() {
//		if err != nil { return err }
//	}
func (s *Stream[T]) All() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		defer s.Close()
		for s.Next() {
			if !yield(s.Current(), nil) {
				return
			}
		}
		if err := s.Err(); err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

func (s *Stream[T]) fail(err error) {
	s.err = err
	s.over(err, err == nil) // fail(nil): the caller closed it during a replay
	_ = s.Close()
}

// over calls the WithOnEnd hook, the first time only.
func (s *Stream[T]) over(err error, closedEarly bool) {
	if s.cfg.onEnd != nil && !s.ended.Swap(true) {
		s.cfg.onEnd(err, closedEarly)
	}
}

// finish ends the stream at [DONE]. It reads what little may follow (the
// chunked-encoding trailer) so the connection can be reused, but never waits
// for a server that keeps the stream open.
func (s *Stream[T]) finish() {
	s.done = true
	s.over(nil, false)
	if s.closed.Load() {
		return
	}
	// The timer holds the body, not the stream, so that a finished stream's
	// buffers are not kept alive until it fires.
	body := s.body
	t := time.AfterFunc(50*time.Millisecond, func() { _ = body.Close() })
	_, _ = io.Copy(io.Discard, io.LimitReader(s.body, 64<<10))
	t.Stop()
	_ = s.Close()
}

// idleReader fails a stream that waits longer than timeout for an event,
// by closing its body. Its timer runs only while a Read is in progress: the
// decoder reads only when it needs bytes it does not hold, so neither the
// caller's pauses between calls to Next nor events already buffered count
// as idle time. The reads of one wait share the timeout: Next restarts it
// for each event it waits for, and a read of a keep-alive meanwhile uses it
// up like silence.
type idleReader struct {
	r       io.ReadCloser
	timeout time.Duration
	left    time.Duration // what the reads of this wait have not used of timeout
	clock   clock
	timer   timer
	fired   atomic.Bool
}

func newIdleReader(r io.ReadCloser, d time.Duration, clk clock) *idleReader {
	if clk == nil {
		clk = systemClock{}
	}
	ir := &idleReader{r: r, timeout: d, left: d, clock: clk}
	ir.timer = clk.AfterFunc(d, func() {
		ir.fired.Store(true)
		_ = r.Close()
	})
	ir.timer.Stop() // armed by Read, not before the first one
	return ir
}

func (ir *idleReader) Read(p []byte) (int, error) {
	start := ir.clock.Now()
	ir.timer.Reset(ir.left) // fires at once when nothing is left
	n, err := ir.r.Read(p)
	ir.timer.Stop()
	ir.left -= ir.clock.Now().Sub(start)
	if err != nil && ir.fired.Load() {
		err = ErrIdleTimeout
	}
	return n, err
}

// restart gives the wait for the next event the whole timeout. It accepts
// nil, the reader of no timeout.
func (ir *idleReader) restart() {
	if ir != nil {
		ir.left = ir.timeout
	}
}

// stop stops the timer; it accepts nil.
func (ir *idleReader) stop() {
	if ir != nil {
		ir.timer.Stop()
	}
}

// clock is where the idle timeout reads the time: the system's, or in
// tests a fake one they advance, so that a test of the timeout never
// depends on how fast a loaded machine runs.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) timer
}

// timer is what the idle timeout uses of a *time.Timer.
type timer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

type systemClock struct{}

func (systemClock) Now() time.Time                            { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }
