package batchfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/check"
	"github.com/cerebras-go/cerebras/internal/decode"
	"github.com/cerebras-go/cerebras/internal/decodedsize"
)

// The limits of a batch input file, as the Cerebras batch guide documents
// them (Writer enforces them before anything is uploaded). A
// megabyte is read as 10⁶ bytes, the stricter of the two readings, so that a
// file the writer accepts is never too large for the server.
const (
	// MaxLines is the most requests one batch input file may hold.
	MaxLines = 50_000
	// MaxLineBytes is the longest line of an input file, its LF included (1 MB).
	MaxLineBytes = 1_000_000
	// MaxInputBytes is the largest input file, LFs included (200 MB).
	MaxInputBytes = 200_000_000
)

// batchEndpoint is the only endpoint a batch serves today.
const batchEndpoint = string(client.BatchEndpointChatCompletions)

// Sentinel errors for the limits of batch files, matched with errors.Is. A
// Writer's error matches one of them and ErrInvalidInput; an error
// of Results matches ErrLineTooLarge or ErrMalformedLine;
// an input line RunLocal cannot read matches ErrMalformedLine
// (or ErrLineTooLarge, ErrInvalidUTF8) and ErrInvalidInput.
var (
	ErrEmptyID       = errors.New("cerebras: empty custom_id")
	ErrDuplicateID   = errors.New("cerebras: duplicate custom_id")
	ErrModelMismatch = errors.New("cerebras: a batch takes one model for all its lines")
	ErrInvalidUTF8   = errors.New("cerebras: invalid UTF-8")
	ErrLineTooLarge  = errors.New("cerebras: batch line too large")
	ErrTooManyLines  = errors.New("cerebras: too many batch lines")
	ErrTooLarge      = errors.New("cerebras: batch file too large")
	ErrTooFewLines   = errors.New("cerebras: too few batch lines")
	ErrMalformedLine = errors.New("cerebras: malformed batch line")
	ErrWriterClosed  = errors.New("cerebras: Writer is closed")
)

// LineError reports one line of a batch file: a request a
// Writer refused (then Err is a *ParamError, and the error matches
// ErrInvalidInput and the limit's sentinel), or a result line Results
// could not read (ErrMalformedLine, ErrLineTooLarge).
type LineError struct {
	// Line is the line's number in the file, from 1. For a refused request,
	// the number it would have had: refused lines are not written.
	Line int
	// CustomID is the line's custom_id, when known.
	CustomID string
	// Err is what is wrong with the line.
	Err error
}

// Error names the line, its custom_id and what is wrong, in one line.
func (e *LineError) Error() string {
	msg := ""
	var pe *client.ParamError
	if errors.As(e.Err, &pe) {
		msg = pe.Message
	} else if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.CustomID == "" {
		return fmt.Sprintf("cerebras: batch line %d: %s", e.Line, msg)
	}
	id := e.CustomID
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	return fmt.Sprintf("cerebras: batch line %d (custom_id %q): %s", e.Line, id, msg)
}

// Unwrap returns Err.
func (e *LineError) Unwrap() error { return e.Err }

// Writer writes a batch input file: one chat completion request a
// line, {"custom_id", "method": "POST", "url": "/v1/chat/completions",
// "body"}, with LF endings. It checks every documented limit before a line
// is written, so a file it accepted will not be refused for its shape after
// an upload of up to 200 MB.
//
// Each Add writes its line to the destination at once, in one Write call
// (wrap a file in a bufio.Writer); the writer keeps only what the limits
// need, the custom_ids seen and the counts, never the lines. A refused line
// is not written and leaves the writer as it was, so the caller may skip it
// and go on; a failed Write of the destination is returned by every later
// call. A Writer is not safe for concurrent use.
type Writer struct {
	// MinLines is the fewest lines Close accepts: 0 unless set, as the
	// current batch guide states no minimum. An older copy of the guide asked
	// for at least 10; set MinLines to 10 to keep that rule.
	MinLines int

	dst    io.Writer
	buf    bytes.Buffer
	enc    *json.Encoder
	ids    map[string]int     // custom_id → its line
	seen   map[visit]struct{} // invalidUTF8's, reused
	model  string             // the first line's model
	lines  int
	bytes  int64
	err    error // a failed Write, returned from then on
	closed bool
}

// NewWriter returns a Writer writing to dst.
//
//	w := NewWriter(f)
//	for i, q := range questions {
//		if err := w.Add(fmt.Sprint("q-", i), params(q)); err != nil { return err }
//	}
//	if err := w.Close(); err != nil { return err } // fewer than MinLines, or a failed Write
func NewWriter(dst io.Writer) *Writer {
	w := &Writer{dst: dst, ids: make(map[string]int), seen: make(map[visit]struct{})}
	w.enc = json.NewEncoder(&w.buf)
	w.enc.SetEscapeHTML(false) // smaller lines; the body is not HTML
	return w
}

// Add writes the request params as the next line, under customID. params
// are checked as Chat.Completions.New checks them, and Stream must not be
// true. Errors: a *LineError whose Err is a *ParamError, matching
// ErrInvalidInput and one of ErrEmptyID, ErrDuplicateID,
// ErrModelMismatch, ErrInvalidUTF8, ErrLineTooLarge,
// ErrTooManyLines, ErrTooLarge (or none, for a params error, such as
// params encoding/json refuses — a cycle, a NaN — which get the encoding
// error Chat.Completions.New gives them); ErrWriterClosed after Close; and
// the destination's Write error.
//
// Strings must be valid UTF-8: encoding/json would silently replace each
// invalid byte with U+FFFD, so a customID or a params field (Model,
// PromptCacheKey, a tool's schema …) that is not is refused instead. The
// text of a message is encoded when the message is built (UserMessage …),
// and its invalid bytes are already U+FFFD by then: check it with
// utf8.ValidString before, when that matters.
func (w *Writer) Add(customID string, params client.ChatCompletionNewParams) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrWriterClosed
	}
	line := w.lines + 1
	fail := func(param string, sentinel error, format string, args ...any) error {
		return &LineError{Line: line, CustomID: customID,
			Err: &client.ParamError{Param: param, Message: fmt.Sprintf(format, args...), Err: sentinel}}
	}
	switch {
	case customID == "":
		return fail("customID", ErrEmptyID, "the custom_id is empty: every line needs a unique one")
	case !utf8.ValidString(customID):
		return fail("customID", ErrInvalidUTF8, "the custom_id is not valid UTF-8")
	}
	if first, ok := w.ids[customID]; ok {
		return fail("customID", ErrDuplicateID, "duplicate custom_id: line %d has it already", first)
	}
	if w.lines >= MaxLines {
		return fail("customID", ErrTooManyLines, "a batch holds at most %d lines", MaxLines)
	}
	if params.Stream != nil && *params.Stream {
		return &LineError{Line: line, CustomID: customID,
			Err: paramError("params.Stream", "Stream is true: a batch request cannot stream")}
	}
	if pr := check.Chat(&params); pr != nil {
		return &LineError{Line: line, CustomID: customID, Err: &client.ParamError{Param: pr.Param, Message: pr.Message}}
	}
	// Encoded first, as Chat.Completions.New encodes after the same checks:
	// params it cannot encode (a cycle, a NaN) get the error it gives.
	w.buf.Reset()
	if err := w.enc.Encode(gen.BatchInputLine{CustomID: customID, Method: gen.BatchInputLineMethodPOST, URL: client.BatchEndpointChatCompletions, Body: &params}); err != nil {
		return &LineError{Line: line, CustomID: customID,
			Err: &client.ParamError{Param: "params", Message: "encoding the request: " + err.Error(), Err: err}}
	}
	p := invalidUTF8(reflect.ValueOf(&params).Elem(), "params", w.seen)
	clear(w.seen) // keep no pointer into the caller's params
	if p != "" {
		return fail(p, ErrInvalidUTF8, "%s is not valid UTF-8 (encoding/json would replace its bad bytes with U+FFFD)", p)
	}
	if w.model != "" && params.Model != w.model {
		return fail("params.Model", ErrModelMismatch, "model %q differs from line 1's %q: a batch takes one model", params.Model, w.model)
	}

	b := w.buf.Bytes() // Encode ended it with the LF
	if !utf8.Valid(b) {
		return fail("params", ErrInvalidUTF8, "the request holds invalid UTF-8")
	}
	if len(b) > MaxLineBytes {
		return fail("params", ErrLineTooLarge, "the line is %d bytes, over the %d-byte (1 MB) limit", len(b), MaxLineBytes)
	}
	if w.bytes+int64(len(b)) > MaxInputBytes {
		return fail("params", ErrTooLarge, "this line would make the file %d bytes, over the %d-byte (200 MB) limit", w.bytes+int64(len(b)), MaxInputBytes)
	}

	n, err := w.dst.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("cerebras: writing batch line %d: %w", line, err)
		return w.err
	}
	w.ids[customID] = line
	w.model = params.Model
	w.lines++
	w.bytes += int64(len(b))
	return nil
}

// Lines returns how many lines have been written.
func (w *Writer) Lines() int { return w.lines }

// Close ends the file: it reports a *ParamError matching ErrTooFewLines
// when fewer than MinLines lines were written, and any earlier Write error.
// It does not close the destination. Calling it again returns the same.
func (w *Writer) Close() error {
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.lines < w.MinLines {
		return &client.ParamError{Param: "Writer.MinLines", Err: ErrTooFewLines,
			Message: fmt.Sprintf("the batch has %d lines, fewer than the Writer's MinLines, %d", w.lines, w.MinLines)}
	}
	return nil
}

// invalidUTF8 returns the path of the first string in v, a value reached
// through exported fields, pointers, slices, maps and interfaces, that is
// not valid UTF-8, or "" when every one is. Unions keep their JSON in an
// unexported field: their strings were encoded when they were built.
//
// It walks each pointer, map and slice once, recording it in seen: a value
// shared by two fields is walked once, and a cycle ends the walk instead of
// recursing until the stack overflows. A cycle that encoding/json reaches
// was refused before the walk; the walk may still meet one json never
// reaches, behind a MarshalJSON method.
func invalidUTF8(v reflect.Value, path string, seen map[visit]struct{}) string {
	steps, found := badString(v, seen)
	if !found {
		return ""
	}
	slices.Reverse(steps)
	return path + strings.Join(steps, "")
}

// badString reports whether a string reached from v is not valid UTF-8,
// and the steps to the first one, last step first: a path is built only for
// the string reported, so a deep value costs no more than its size.
func badString(v reflect.Value, seen map[visit]struct{}) (steps []string, found bool) {
	switch v.Kind() {
	case reflect.String:
		return nil, !utf8.ValidString(v.String())
	case reflect.Interface:
		if !v.IsNil() {
			return badString(v.Elem(), seen)
		}
	case reflect.Pointer:
		if !v.IsNil() && firstVisit(v, 0, seen) {
			return badString(v.Elem(), seen)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && (v.Type().Elem().Kind() == reflect.Uint8 || v.Len() == 0 || !firstVisit(v, v.Len(), seen)) {
			return nil, false // bytes (json.RawMessage) are checked in the encoded line
		}
		for i := range v.Len() {
			if steps, found := badString(v.Index(i), seen); found {
				return append(steps, fmt.Sprintf("[%d]", i)), true
			}
		}
	case reflect.Map:
		if v.IsNil() || !firstVisit(v, 0, seen) {
			return nil, false
		}
		for it := v.MapRange(); it.Next(); {
			steps, found := badString(it.Key(), seen)
			if !found {
				steps, found = badString(it.Value(), seen)
			}
			if found {
				return append(steps, fmt.Sprintf("[%q]", it.Key())), true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				if steps, found := badString(v.Field(i), seen); found {
					return append(steps, "."+f.Name), true
				}
			}
		}
	}
	return nil, false
}

// visit names a pointer, map or slice badString has walked: its address,
// its type (a struct and its first field share an address) and, for a
// slice, its length (s[:1] and s[:2] share one).
type visit struct {
	typ reflect.Type
	ptr uintptr
	len int
}

// firstVisit records v, a pointer, map or slice of length n, in seen, and
// reports whether it was not there yet.
func firstVisit(v reflect.Value, n int, seen map[visit]struct{}) bool {
	k := visit{v.Type(), v.Pointer(), n}
	if _, ok := seen[k]; ok {
		return false
	}
	seen[k] = struct{}{}
	return true
}

// DefaultResultLineBytes is the longest line Results reads: a
// result holds a whole chat completion, which with log probabilities can be
// far longer than its 1 MB request. A longer line is reported and skipped.
const DefaultResultLineBytes = 16 << 20

// The statuses of a Result. Cerebras' output lines give them; for
// OpenAI's shape they are derived from the status_code and the error.
// Other values the API may add are kept as they come.
const (
	StatusSucceeded = string(gen.BatchResultStatusSucceeded)
	StatusFailed    = string(gen.BatchResultStatusFailed)
	StatusExpired   = string(gen.BatchResultStatusExpired)
)

// Result is one line of a batch output or error file.
type Result struct {
	// Line is the line's number in the file, from 1.
	Line int
	// CustomID is the custom_id of the request the line answers.
	CustomID string
	// ID is the line's own id (OpenAI's shape has one, "batch_req_…"), or "".
	ID string
	// Status is StatusSucceeded, StatusFailed, StatusExpired
	// or a value the API added: the line's "status", or when it has none,
	// derived from the status code and the error.
	Status string
	// StatusCode is the HTTP status of the request when the line gives one
	// (OpenAI's response.status_code), else 0.
	StatusCode int
	// RequestID is the request id when the line gives one, else "".
	RequestID string
	// Completion is the chat completion, nil when the line has none.
	Completion *client.ChatCompletion
	// Error is the request's error, nil when the line has none.
	Error *ResultError
	// Raw is the line as read, without its line ending: a copy the caller
	// may keep.
	Raw []byte
}

// ResultError is the error of one request in a batch: the line's
// "error" object, or the error body of a failed status_code.
type ResultError struct {
	// Code is a machine-readable code, such as "batch_expired"; a numeric
	// code is kept as its text.
	Code string
	// Message describes the error.
	Message string
	// Type is the error class, when given, such as "invalid_request_error".
	Type string
	// Param is the request parameter the error concerns, when given.
	Param string
}

// Error returns the code and the message, on one line.
func (e *ResultError) Error() string {
	switch {
	case e.Code == "":
		return "cerebras: batch request failed: " + e.Message
	case e.Message == "":
		return "cerebras: batch request failed: " + e.Code
	}
	return "cerebras: batch request failed: " + e.Code + ": " + e.Message
}

// Results iterates over the lines of a batch output or error file
// (the content of GET /v1/files/{id}/content), at constant memory: one
// line at a time, each at most DefaultResultLineBytes long. It accepts
// both documented shapes of a line, Cerebras'
//
//	{"custom_id", "status", "response": {<chat.completion>}}  or  …, "error": {"code", "message"}}
//
// and OpenAI's
//
//	{"id", "custom_id", "response": {"status_code", "request_id", "body": {<chat.completion>}}, "error"}
//
// A line that cannot be read (not JSON, no custom_id, a completion that does
// not decode, over the length limit) is yielded as a *LineError
// matching ErrMalformedLine or ErrLineTooLarge, and the iteration
// goes on: break to stop it. Blank lines are skipped; LF and CRLF endings
// are accepted. An error reading r is yielded last. The sequence reads r,
// so it can be ranged over once.
//
//	for res, err := range Results(body) {
//		if err != nil { log.Print(err); continue }
//		if res.Completion != nil { fmt.Println(res.CustomID, res.Completion.Choices[0].Message.Content) }
//	}
func Results(r io.Reader) iter.Seq2[Result, error] {
	return ResultsLimit(r, DefaultResultLineBytes)
}

// ResultsLimit is Results with lines of up to
// maxLineBytes (without their line ending); 0 or less means
// DefaultResultLineBytes, and math.MaxInt no limit but memory.
func ResultsLimit(r io.Reader, maxLineBytes int) iter.Seq2[Result, error] {
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultResultLineBytes
	}
	readMax := maxLineBytes // room for a CR, unless that would overflow
	if readMax < math.MaxInt {
		readMax++
	}
	return func(yield func(Result, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var buf []byte // the current line, reused: its capacity is the longest line so far
		for n := 1; ; n++ {
			var tooLong bool
			var err error
			buf, _, tooLong, err = readBatchLine(br, buf[:0], readMax)
			if err != nil && err != io.EOF {
				yield(Result{}, fmt.Errorf("cerebras: reading batch results, line %d: %w", n, err))
				return
			}
			line := bytes.TrimSuffix(buf, []byte("\r"))
			if tooLong || len(line) > maxLineBytes {
				if !yield(Result{}, &LineError{Line: n,
					Err: fmt.Errorf("%w: longer than %d bytes", ErrLineTooLarge, maxLineBytes)}) {
					return
				}
			} else if len(bytes.TrimSpace(line)) > 0 {
				res, lerr := parseBatchResult(n, line)
				if !yield(res, lerr) {
					return
				}
			}
			if err == io.EOF {
				return
			}
		}
	}
}

// readBatchLine appends the next line of br to buf, without its LF, and
// returns how many bytes it consumed, the LF included. A line over max bytes
// is consumed but not kept (tooLong). err is io.EOF after the last line: a
// last line without an LF comes with io.EOF and n > 0.
func readBatchLine(br *bufio.Reader, buf []byte, max int) (_ []byte, n int64, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		n += int64(len(frag))
		frag = bytes.TrimSuffix(frag, []byte("\n"))
		if !tooLong && len(frag) > max-len(buf) { // len(buf) ≤ max: no overflow, whatever max
			tooLong, buf = true, buf[:0]
		}
		if !tooLong {
			buf = append(buf, frag...)
		}
		if err != bufio.ErrBufferFull {
			return buf, n, tooLong, err
		}
	}
}

// parseBatchResult decodes one output line. A line whose decoded value, or
// whose completion's, would take more memory than 4 times its size plus 64
// KiB (decodedsize.Limit) is refused before it is decoded, with a
// *LineError matching ErrLineTooLarge: one hostile line, such as a million
// empty choices, cannot break Results' constant memory.
func parseBatchResult(n int, line []byte) (Result, error) {
	res := Result{Line: n}
	// Its own value, then its completion's: one bound, the line's errors.
	tooLarge := func(id, what string, e *decodedsize.Error) error {
		return &LineError{Line: n, CustomID: id, Err: fmt.Errorf("%w: its %s would take more than %d bytes of memory once decoded (4 times its %d bytes plus 64 KiB)",
			ErrLineTooLarge, what, e.Limit, e.Size)}
	}
	if err := decodedsize.Check[gen.BatchResultLine](line); err != nil {
		return res, tooLarge("", "value", err.(*decodedsize.Error))
	}
	var w gen.BatchResultLine // its fields raw JSON, for the tolerant reading below
	if err := json.Unmarshal(line, &w); err != nil {
		return res, malformed(n, "", "%w", err)
	}
	id, ok := jsonText(w.CustomID)
	if !ok {
		return res, malformed(n, "", "no custom_id")
	}
	res.CustomID = id
	res.ID, _ = jsonText(w.ID)
	res.Status, _ = jsonText(w.Status)
	res.Raw = bytes.Clone(line)

	var err error
	if res.Error, err = parseResultError(w.Error); err != nil {
		return res, malformed(n, id, "error: %w", err)
	}
	completion := w.Response
	if isObject(w.Response) {
		var env gen.BatchResultResponse // OpenAI's envelope, if it is one
		if err := json.Unmarshal(w.Response, &env); err != nil {
			return res, malformed(n, id, "response: %w", err)
		}
		if env.StatusCode != nil || !isNull(env.Body) { // OpenAI's envelope
			completion = nil
			if env.StatusCode != nil {
				res.StatusCode = *env.StatusCode
			}
			res.RequestID, _ = jsonText(env.RequestID)
			if res.StatusCode != 0 && (res.StatusCode < 200 || res.StatusCode > 299) {
				if res.Error == nil {
					res.Error = errorFromBody(env.Body)
				}
			} else {
				completion = env.Body
			}
		}
	} else if !isNull(w.Response) {
		return res, malformed(n, id, "response is not an object")
	}
	if !isNull(completion) {
		if !isObject(completion) {
			return res, malformed(n, id, "the completion is not an object")
		}
		res.Completion = new(client.ChatCompletion)
		if err := decode.Response(completion, res.Completion); err != nil {
			if e, ok := err.(*decodedsize.Error); ok {
				return Result{Line: n, CustomID: id, Raw: res.Raw}, tooLarge(id, "completion", e)
			}
			return Result{Line: n, CustomID: id, Raw: res.Raw}, malformed(n, id, "completion: %w", err)
		}
	}
	if res.Status == "" {
		switch {
		case res.Error != nil && res.Error.Code == string(gen.BatchResultErrorCodeBatchExpired):
			res.Status = StatusExpired
		case res.Error != nil:
			res.Status = StatusFailed
		case res.Completion != nil:
			res.Status = StatusSucceeded
		default:
			return res, malformed(n, id, "neither a status, a response nor an error")
		}
	}
	return res, nil
}

// malformed returns the *LineError of a line that cannot be read.
func malformed(n int, id, format string, args ...any) error {
	return &LineError{Line: n, CustomID: id,
		Err: fmt.Errorf("%w: "+format, append([]any{ErrMalformedLine}, args...)...)}
}

// parseResultError decodes a line's "error": an object, a string (its
// message), or null.
func parseResultError(raw json.RawMessage) (*ResultError, error) {
	if isNull(raw) {
		return nil, nil
	}
	if s, ok := jsonText(raw); ok {
		return &ResultError{Message: s}, nil
	}
	if !isObject(raw) {
		return nil, errors.New("neither an object nor a string")
	}
	var f struct{ Code, Message, Type, Param json.RawMessage }
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	e := &ResultError{}
	e.Code, _ = jsonText(f.Code)
	e.Message, _ = jsonText(f.Message)
	e.Type, _ = jsonText(f.Type)
	e.Param, _ = jsonText(f.Param)
	return e, nil
}

// errorFromBody reads the error body of a failed request, wrapped
// ({"error": {…}}) or flat; a body it cannot read is kept as the message.
func errorFromBody(body json.RawMessage) *ResultError {
	if isNull(body) {
		return &ResultError{}
	}
	var wrapped struct{ Error json.RawMessage }
	if isObject(body) && json.Unmarshal(body, &wrapped) == nil && isObject(wrapped.Error) {
		body = wrapped.Error
	}
	if e, err := parseResultError(body); err == nil && e != nil {
		return e
	}
	return &ResultError{Message: string(body)}
}

// jsonText decodes a JSON string, or a number or boolean as its text;
// null, absent, objects and arrays give "", false.
func jsonText(raw json.RawMessage) (string, bool) {
	if isNull(raw) || raw[0] == '{' || raw[0] == '[' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return string(raw), true
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func isObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

// paramError returns a *client.ParamError for param, its message formatted.
func paramError(param, format string, args ...any) error {
	return &client.ParamError{Param: param, Message: fmt.Sprintf(format, args...)}
}
