package batchfile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/usage"
)

// Completer sends a chat completion request: the chat endpoint of a
// *client.Client, c.Chat.Completions, is one. RunLocal sends every request
// of the file through it; a test can give RunLocal one of its own, without
// HTTP.
type Completer interface {
	New(ctx context.Context, params client.ChatCompletionNewParams, opts ...client.Option) (*client.ChatCompletion, error)
}

// Request is one request of a batch: the custom_id that names its
// result and the chat completion it asks for, the body of an input line.
// RunLocalSeq runs a sequence of them.
type Request struct {
	// CustomID names the request's result line; unique within a batch.
	CustomID string
	// Params is the chat completion request.
	Params client.ChatCompletionNewParams
}

// The concurrency of RunLocal.
const (
	// DefaultConcurrency is how many requests RunLocal keeps in flight
	// when RunParams.Concurrency is 0.
	DefaultConcurrency = 8
	// MaxConcurrency is the largest RunParams.Concurrency.
	MaxConcurrency = 1024
)

// ErrUnfinished is matched by the error of a RunLocal run in which some
// requests got no answer to record (a connection error, or a 429 or 5xx
// still failing after the client's retries): they are not in the output,
// so running again with the same output sends them, and only them, again.
var ErrUnfinished = errors.New("cerebras: some requests got no answer")

// Output is the results file of RunLocal. RunLocal reads it
// from the start to find the requests an earlier run finished, truncates a
// torn last line, and appends its results. An *os.File opened with
// os.O_RDWR|os.O_CREATE (and os.O_APPEND, if you like) implements it.
type Output interface {
	io.ReadWriteSeeker
	// Truncate changes the size of the file, as (*os.File).Truncate.
	Truncate(size int64) error
}

// RunParams configures RunLocal. The zero value keeps
// DefaultConcurrency requests in flight and reports no progress.
type RunParams struct {
	// Concurrency is the most requests in flight at once: 1 to
	// MaxConcurrency, or 0 for DefaultConcurrency.
	Concurrency int
	// OnProgress, if set, is called after every request that finishes
	// (recorded or not), and once when the whole input has been read (then
	// Total is known). Calls never overlap and the counts only grow: it runs
	// under the runner's lock, so it must return quickly. It may cancel the
	// run's context, to stop after a number of results.
	OnProgress func(Progress)
	// Observer, if set, watches the run as one operation (MethodRunLocal,
	// with these *RunParams), started once the arguments are checked and
	// ended with the run's *Progress and error. The requests are sent in
	// the context its Start returned, so a client with the same Observer
	// reports them as the run's children. Nil (the default) costs nothing.
	Observer client.Observer
}

// MethodRunLocal is the Operation method of a RunLocal or RunLocalSeq run,
// as reported to RunParams.Observer.
const MethodRunLocal = "batchfile.RunLocal"

// Progress counts the requests of one RunLocal call.
type Progress struct {
	// Total is the number of requests in the input once it has all been
	// read, and -1 before.
	Total int
	// Skipped counts the requests found in the output already, not sent.
	Skipped int
	// Completed counts the requests answered and written as succeeded.
	Completed int
	// Failed counts the requests the API refused and written as failed.
	Failed int
	// Unfinished counts the requests that got no answer to record: not
	// written, they are sent again by the next run.
	Unfinished int
	// Usage adds up the usage of the completed requests, every count of it
	// (prompt, completion, total, cached and reasoning tokens …), as a
	// tool run's Usage adds up its turns.
	Usage client.Usage
	// Elapsed is the time since the run started.
	Elapsed time.Duration
}

// Rate returns the requests answered per second in this run (Completed and
// Failed over Elapsed), or 0 before any time has passed.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Completed+p.Failed) / p.Elapsed.Seconds()
}

// RunLocal runs a batch input file on this machine, through the ordinary
// chat API (Chat.Completions.New), instead of uploading it to the Batch API:
// it needs no Private Preview access, and its results come as they finish.
// input is a file as NewWriter writes it; output receives the
// results in the batch output format, so Results reads them as it
// reads a batch's output file:
//
//	{"custom_id": "q1", "status": "succeeded", "response": {<chat.completion>}}
//	{"custom_id": "q2", "status": "failed", "error": {"code", "message", "type", "param"}}
//
// Failures go to the same output as successes: one file records every
// request done, which is what makes a run resumable (the Batch API splits
// them into an output and an error file; Results reads either, and
// a result's Status tells them apart).
//
// A run is resumable: the custom_ids already in output are skipped, so a
// crash or a cancelled context loses nothing but the requests in flight.
// A line is done when it is a complete JSON object (as json.Valid reads it)
// with a top-level custom_id, however long it is and whether or not its
// completion decodes (a line written by another version of this SDK
// counts); resume reads it at constant memory.
// Each result is one Write of a whole line, and a torn last line (a crash
// mid-write) is cut off before the run appends, so no custom_id appears
// twice. A line damaged within the file (a zero-filled block, a stray
// control byte, a lost brace) is not done either: it is kept as it is, its
// request runs again and the result is appended, and Results reports the
// damaged line as a *LineError matching ErrMalformedLine and reads on.
// A request the API refused (an error status the client does not retry,
// such as 400 or 422) is written as failed and not sent again: remove its
// line to retry it. A 401, 402, 403 or 404 (a wrong key or base URL, no
// access or credit, an unknown model) would fail every request alike: it
// stops the run, unwritten, and is returned, as is an error of opts. A request with no answer to
// record (a connection error, a 429 or 5xx still failing after the
// client's retries) is not written; the run goes on and returns an error
// matching ErrUnfinished, and the next run sends it again.
//
// The input is checked as NewWriter checks it (unique custom_ids,
// one model, the line and file limits, LF endings, valid UTF-8), and a line
// that fails stops the run with a *LineError naming it, the requests
// before it keeping their results. Fields that ChatCompletionNewParams does
// not know are refused rather than dropped (send them with WithExtraBody).
//
// Every request goes through c like any call, with opts added: the client's
// retries (a 429 waits as retry-after says), middleware and headers apply.
// At most params.Concurrency requests are in flight. Cancelling ctx stops
// sending, waits for the requests in flight (written if they were answered)
// and returns ctx's error; no goroutine outlives the call. The progress
// returned counts the whole run, whatever the error.
//
//	out, err := os.OpenFile("results.jsonl", os.O_RDWR|os.O_CREATE, 0o644)
//	…
//	p, err := batchfile.RunLocal(ctx, c.Chat.Completions, in, out, batchfile.RunParams{Concurrency: 16})
func RunLocal(ctx context.Context, chat Completer, input io.Reader, output Output, params RunParams, opts ...client.Option) (Progress, error) {
	if ctx == nil {
		return Progress{Total: -1}, paramError("ctx", "nil Context")
	}
	if input == nil {
		return Progress{Total: -1}, paramError("input", "batchfile.RunLocal: input is nil")
	}
	return RunLocalSeq(ctx, chat, readBatchInput(input), output, params, opts...)
}

// RunLocalSeq is RunLocal for requests from a sequence instead of a file,
// such as one that builds them as it goes; an error from the sequence stops
// the run and is returned. The requests are checked as NewWriter
// checks them, a *LineError numbering them from 1. The sequence is
// ranged over once, on the caller's goroutine.
func RunLocalSeq(ctx context.Context, chat Completer, requests iter.Seq2[Request, error], output Output, params RunParams, opts ...client.Option) (Progress, error) {
	p := Progress{Total: -1}
	if ctx == nil {
		return p, paramError("ctx", "nil Context")
	}
	if chat == nil {
		return p, paramError("chat", "batchfile.RunLocal: chat is nil: pass c.Chat.Completions")
	}
	workers := params.Concurrency
	switch {
	case workers == 0:
		workers = DefaultConcurrency
	case workers < 0 || workers > MaxConcurrency:
		return p, paramError("RunParams.Concurrency", "RunParams.Concurrency is %d: it must be 1 to %d, or 0 for %d", workers, MaxConcurrency, DefaultConcurrency)
	}
	if requests == nil {
		return p, paramError("requests", "batchfile.RunLocalSeq: requests is nil")
	}
	if output == nil {
		return p, paramError("output", "batchfile.RunLocal: output is nil")
	}
	if err := ctx.Err(); err != nil {
		return p, err
	}
	if params.Observer == nil {
		return runLocal(ctx, chat, requests, output, params, workers, opts)
	}
	observed := params // a copy, so that params does not escape when unobserved
	ctx, obs := params.Observer.Start(ctx, client.Operation{Method: MethodRunLocal, Params: &observed})
	p, err := runLocal(ctx, chat, requests, output, params, workers, opts)
	if obs != nil {
		obs.End(client.Outcome{Result: &p, Err: err})
	}
	return p, err
}

// runLocal is RunLocalSeq once its arguments are checked.
func runLocal(ctx context.Context, chat Completer, requests iter.Seq2[Request, error], output Output, params RunParams, workers int, opts []client.Option) (Progress, error) {
	p := Progress{Total: -1}
	done, err := resumeBulkOutput(output)
	if err != nil {
		return p, err
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &bulkRun{chat: chat, opts: opts, out: output, onProgress: params.OnProgress,
		cancel: cancel, start: time.Now(), p: p}
	jobs := make(chan Request) // unbuffered: nothing waits in a queue when ctx is cancelled
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for req := range jobs {
				r.do(runCtx, req)
			}
		})
	}
	inputErr := r.feed(runCtx, requests, done, jobs)
	close(jobs)
	wg.Wait()

	r.mu.Lock()
	defer r.mu.Unlock()
	p = r.p
	p.Elapsed = time.Since(r.start)
	switch {
	case r.err != nil:
		return p, r.err
	case ctx.Err() != nil:
		return p, ctx.Err()
	case inputErr != nil:
		return p, inputErr
	case p.Unfinished > 0:
		return p, fmt.Errorf("%w: %d not written, run again to send them; the first: %w", ErrUnfinished, p.Unfinished, r.firstUnfinished)
	}
	return p, nil
}

// bulkRun is the state of one RunLocal call, shared by its workers.
type bulkRun struct {
	chat       Completer
	opts       []client.Option
	out        Output
	onProgress func(Progress)
	cancel     context.CancelCauseFunc
	start      time.Time

	mu              sync.Mutex // serializes the output's writes, p and onProgress
	p               Progress
	err             error // why the run stopped: the output's Write failed, or an error every request would get
	firstUnfinished error
}

// feed checks the requests and hands those not done yet to the workers. It
// returns the first input error.
func (r *bulkRun) feed(ctx context.Context, requests iter.Seq2[Request, error], done map[string]struct{}, jobs chan<- Request) error {
	check := NewWriter(io.Discard) // the writer's checks, its lines discarded
	n := 0
	for req, err := range requests {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		n++
		if err := check.Add(req.CustomID, req.Params); err != nil {
			return err
		}
		if _, ok := done[req.CustomID]; ok {
			r.mu.Lock()
			r.p.Skipped++
			r.mu.Unlock()
			continue
		}
		select {
		case jobs <- req:
		case <-ctx.Done():
			return nil
		}
	}
	r.mu.Lock()
	r.p.Total = n
	r.report()
	r.mu.Unlock()
	return nil
}

// do sends one request and records its result.
func (r *bulkRun) do(ctx context.Context, req Request) {
	if ctx.Err() != nil {
		return
	}
	comp, err := r.chat.New(ctx, req.Params, r.opts...)
	var apiErr *client.APIError
	var line []byte
	switch {
	case err == nil:
		line, err = resultLine(req.CustomID, StatusSucceeded, comp, nil)
	case stopsBulkRun(err):
		r.mu.Lock()
		if r.err == nil {
			r.err = fmt.Errorf("cerebras: RunLocal stopped, as every request would fail the same way: %w", err)
			r.cancel(r.err)
		}
		r.mu.Unlock()
		return
	case errors.As(err, &apiErr) && !apiErr.InStream &&
		!apiErr.Retryable():
		line, err = resultLine(req.CustomID, StatusFailed, nil, apiErr)
	case ctx.Err() != nil:
		return // interrupted: not written, so the next run sends it again
	default:
		r.mu.Lock()
		r.p.Unfinished++
		if r.firstUnfinished == nil {
			r.firstUnfinished = err
		}
		r.report()
		r.mu.Unlock()
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	if err == nil {
		var n int
		n, err = r.out.Write(line) // the whole line in one Write: a crash tears at most the last
		if err == nil && n < len(line) {
			err = io.ErrShortWrite
		}
	}
	if err != nil {
		r.err = fmt.Errorf("cerebras: RunLocal: writing the result of %q: %w", req.CustomID, err)
		r.cancel(r.err)
		return
	}
	if comp != nil {
		r.p.Completed++
		usage.Add(&r.p.Usage, comp.Usage)
	} else {
		r.p.Failed++
	}
	r.report()
}

// stopsBulkRun reports an error that says nothing about the request
// itself, so every request would get it: a status for a wrong key or base
// URL, no access or credit, an unknown model (which a batch shares), or a
// *ParamError, which the request's checks ruled out, so one of the run's
// options is bad. Recording it as every line's result would make the rerun
// skip them all.
func stopsBulkRun(err error) bool {
	var pe *client.ParamError
	var apiErr *client.APIError
	switch {
	case errors.As(err, &pe):
		return true
	case errors.As(err, &apiErr):
		switch apiErr.StatusCode {
		case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound:
			return true
		}
	}
	return false
}

// report calls onProgress; r.mu is held.
func (r *bulkRun) report() {
	if r.onProgress != nil {
		p := r.p
		p.Elapsed = time.Since(r.start)
		r.onProgress(p)
	}
}

// resultLine encodes one output line in Cerebras' shape, with its LF: the
// completion, or the API's error.
func resultLine(customID, status string, comp *client.ChatCompletion, apiErr *client.APIError) ([]byte, error) {
	var l gen.BatchResultLine
	var err error
	l.CustomID, err = encodeJSON(customID)
	if err == nil {
		l.Status, err = encodeJSON(status)
	}
	if err == nil && comp != nil {
		l.Response, err = encodeJSON(comp)
	}
	if err == nil && apiErr != nil {
		l.Error, err = encodeJSON(errorDetail(apiErr))
	}
	var b []byte
	if err == nil {
		b, err = encodeJSON(l)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding the result line: %w", err)
	}
	return append(b, '\n'), nil
}

// errorDetail is the API's error as the spec's error object.
func errorDetail(e *client.APIError) gen.ErrorDetail {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	msg := e.Message
	if msg == "" {
		msg = fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return gen.ErrorDetail{Code: opt(e.Code), Message: &msg, Type: opt(e.Type), Param: opt(e.Param), ID: opt(e.ID)}
}

// encodeJSON encodes v as the Writer does, without escaping HTML
// and without the trailing LF.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// resumeBulkOutput reads the results already in out and returns their
// custom_ids, leaving out positioned at the end of its last whole line. A
// line is done when it is one complete JSON object with a top-level
// custom_id, whatever else it holds and however long it is (scanLine):
// done-ness never depends on decoding the completion, so a line this SDK
// cannot read is not sent again. A last line without its LF that is not
// done was torn by a crash mid-write, and is cut off (its request runs
// again); one that is (a file edited by hand) is kept and given its LF.
// Other lines that are not done — damaged by a crash (a zero-filled block,
// a control byte, a lost brace), or without a custom_id — are left as they
// are: rewriting the middle of the file could lose more than it saves, and
// Results skips them with a *LineError.
func resumeBulkOutput(out Output) (map[string]struct{}, error) {
	fail := func(err error) (map[string]struct{}, error) {
		return nil, fmt.Errorf("cerebras: RunLocal: reading the results already in the output: %w", err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	done := make(map[string]struct{})
	br := bufio.NewReaderSize(out, 64<<10)
	var end int64 // the end of the last line kept
	for {
		l, err := scanLine(br)
		if err != nil && err != io.EOF {
			return fail(err)
		}
		if l.n == 0 {
			break // the end, after an LF
		}
		ok := l.whole && l.hasID
		if l.eof && !ok { // torn
			if err := out.Truncate(end); err != nil {
				return fail(err)
			}
			break
		}
		end += l.n
		if ok {
			done[l.id] = struct{}{}
		}
		if l.eof { // whole, but without its LF
			if _, err := out.Seek(end, io.SeekStart); err != nil {
				return fail(err)
			}
			if _, err := out.Write([]byte("\n")); err != nil {
				return fail(err)
			}
			end++
			break
		}
	}
	if _, err := out.Seek(end, io.SeekStart); err != nil {
		return fail(err)
	}
	return done, nil
}

// readBatchInput iterates over the requests of a batch input file; a
// blank last line ends it, as it ends a file the Batch API reads. A line
// it cannot read is yielded as a *LineError whose Err is a *ParamError
// (ErrInvalidInput and ErrMalformedLine, ErrLineTooLarge or
// ErrInvalidUTF8); an error reading r is yielded last.
func readBatchInput(r io.Reader) iter.Seq2[Request, error] {
	return func(yield func(Request, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var buf []byte
		for n := 1; ; n++ {
			var size int64
			var tooLong bool
			var err error
			buf, size, tooLong, err = readBatchLine(br, buf[:0], MaxLineBytes-1) // the limit counts the LF
			if err != nil && err != io.EOF {
				yield(Request{}, fmt.Errorf("cerebras: reading the batch input, line %d: %w", n, err))
				return
			}
			if size == 0 {
				return // the end, after an LF
			}
			if len(bytes.TrimSpace(buf)) == 0 {
				if _, perr := br.Peek(1); err == io.EOF || perr == io.EOF {
					return // a blank last line, as the Batch API accepts it
				}
			}
			var req Request
			var lerr error
			if tooLong {
				lerr = inputLineError(n, "", ErrLineTooLarge, "the line is over the %d-byte (1 MB) limit", MaxLineBytes)
			} else {
				req, lerr = parseBatchInput(n, buf)
			}
			if !yield(req, lerr) || err == io.EOF {
				return
			}
		}
	}
}

// parseBatchInput decodes input line n, without its LF.
func parseBatchInput(n int, line []byte) (Request, error) {
	switch {
	case bytes.HasSuffix(line, []byte("\r")):
		return Request{}, inputLineError(n, "", ErrMalformedLine, "the line ends in CRLF: a batch input file takes LF endings")
	case len(bytes.TrimSpace(line)) == 0:
		return Request{}, inputLineError(n, "", ErrMalformedLine, "the line is blank: a batch input file holds one request a line")
	case !utf8.Valid(line):
		return Request{}, inputLineError(n, "", ErrInvalidUTF8, "the line is not valid UTF-8")
	}
	var in gen.BatchInputLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields() // a field the params do not know would be dropped silently
	if err := dec.Decode(&in); err != nil {
		return Request{}, inputLineError(n, in.CustomID, ErrMalformedLine, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Request{}, inputLineError(n, in.CustomID, ErrMalformedLine, "data after the request's object")
	}
	if in.Method != gen.BatchInputLineMethodPOST || in.URL != client.BatchEndpointChatCompletions {
		return Request{}, inputLineError(n, in.CustomID, ErrMalformedLine, "the request is %q %q: a batch runs POST %s", in.Method, in.URL, batchEndpoint)
	}
	if in.Body == nil {
		return Request{}, inputLineError(n, in.CustomID, ErrMalformedLine, "the request has no body")
	}
	return Request{CustomID: in.CustomID, Params: *in.Body}, nil
}

// inputLineError is the error of input line n.
func inputLineError(n int, customID string, sentinel error, format string, args ...any) error {
	return &LineError{Line: n, CustomID: customID,
		Err: &client.ParamError{Param: "input", Message: fmt.Sprintf(format, args...), Err: sentinel}}
}
