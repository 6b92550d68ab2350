// Package apierror holds the error type shared by package client (HTTP error
// statuses) and package streaming (errors reported inside a stream), so that
// both satisfy errors.As(err, &*client.APIError) without an import cycle.
// Users see it as client.APIError.
package apierror

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/internal/redact"
)

// MaxBody is how much of an error body is kept in Error.Body.
const MaxBody = 64 << 10

// maxMessage bounds a message taken from a non-JSON body.
const maxMessage = 512

// Sentinel errors for the status classes; an *Error matches them with errors.Is.
var (
	ErrBadRequest          = errors.New("bad request")           // 400
	ErrAuthentication      = errors.New("authentication failed") // 401
	ErrPaymentRequired     = errors.New("payment required")      // 402
	ErrPermissionDenied    = errors.New("permission denied")     // 403
	ErrNotFound            = errors.New("not found")             // 404
	ErrConflict            = errors.New("conflict")              // 409
	ErrUnprocessableEntity = errors.New("unprocessable entity")  // 422
	ErrRateLimit           = errors.New("rate limited")          // 429
	ErrInternalServer      = errors.New("server error")          // any status >= 500
	ErrServiceUnavailable  = errors.New("service unavailable")   // 503
)

// Error is an error reported by the Cerebras API: an HTTP error status, or an
// error event inside a 200 event stream (InStream).
type Error struct {
	// StatusCode is the HTTP status, or the status_code of an in-stream
	// error. An in-stream error that gives no status_code has none: 0 (not
	// the stream's 200), so it matches none of the status sentinels.
	StatusCode int
	// Type is the error class, such as "invalid_request_error".
	Type string
	// Code is a machine-readable code, such as "request_quota_exceeded".
	Code string
	// Param is the request parameter the error concerns.
	Param string
	// Message is the server's description of the error.
	Message string
	// ID is the error's id, when the server sends one.
	ID string
	// Details lists FastAPI validation failures ("loc: msg"), for 422 responses.
	Details []string
	// RequestID is the x-request-id (or cf-ray) response header.
	RequestID string
	// Header holds the response headers.
	Header http.Header
	// RateLimit is parsed from the x-ratelimit-* headers.
	RateLimit RateLimit
	// RetryAfter is the delay the server asked for (retry-after-ms or
	// retry-after), or 0 when it asked for none. A delay too long for a
	// Duration is the largest Duration.
	RetryAfter time.Duration
	// Body is the raw response body (or the stream event's data), at most MaxBody bytes.
	Body []byte
	// BodyTruncated reports that the body was longer than Body.
	BodyTruncated bool
	// InStream reports an error event received inside a 200 event stream.
	InStream bool
	// Method is the HTTP method of the request that failed, such as "POST".
	Method string
	// Path is the URL path the request went to, such as
	// "/v1/chat/completions", so that a 404 from a wrong base URL says where
	// it went. It never holds the query string.
	Path string
}

// Error returns one line: the request's method and path, "error in stream"
// for an in-stream error, the status (unless an in-stream error gave none),
// the server's message and its type, code, param and request id. It never
// includes headers, the query string or the request body.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cerebras: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(strings.TrimSpace(e.Method + " " + e.Path))
		b.WriteString(": ")
	}
	if e.InStream {
		b.WriteString("error in stream")
	}
	if e.StatusCode != 0 || !e.InStream {
		if e.InStream {
			b.WriteString(": ")
		}
		b.WriteString(strconv.Itoa(e.StatusCode))
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteByte(' ')
			b.WriteString(t)
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	var attrs []string
	for _, kv := range [][2]string{{"type", e.Type}, {"code", e.Code}, {"param", e.Param}, {"request id", e.RequestID}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0]+" "+kv[1])
		}
	}
	if len(attrs) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(attrs, ", "))
		b.WriteByte(')')
	}
	return oneLine(b.String())
}

// oneLine replaces control characters (a server message may hold newlines)
// so Error() stays one log line.
func oneLine(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// sentinelStatus is the status each sentinel stands for; ErrInternalServer
// stands for every status from 500 up.
var sentinelStatus = map[error]int{
	ErrBadRequest:          http.StatusBadRequest,
	ErrAuthentication:      http.StatusUnauthorized,
	ErrPaymentRequired:     http.StatusPaymentRequired,
	ErrPermissionDenied:    http.StatusForbidden,
	ErrNotFound:            http.StatusNotFound,
	ErrConflict:            http.StatusConflict,
	ErrUnprocessableEntity: http.StatusUnprocessableEntity,
	ErrRateLimit:           http.StatusTooManyRequests,
	ErrServiceUnavailable:  http.StatusServiceUnavailable,
}

// Is reports whether target is the sentinel of e's status class, so that
// errors.Is(err, client.ErrRateLimit) works.
func (e *Error) Is(target error) bool {
	if target == ErrInternalServer {
		return e.StatusCode >= 500
	}
	status, ok := sentinelStatus[target]
	return ok && e.StatusCode == status
}

// Redact replaces secret in the error's text fields, header values and
// body, by the rule of package redact (a short secret only where it is a
// whole token), so a server that echoes the API key (into a message, a
// request id or any header) cannot leak it through an error or a print
// of one. Header becomes a redacted copy when a value changes; the
// response keeps its own.
func (e *Error) Redact(secret string) {
	if secret == "" {
		return
	}
	for _, s := range []*string{&e.Type, &e.Code, &e.Param, &e.Message, &e.ID, &e.RequestID, &e.Path} {
		*s = redact.String(*s, secret)
	}
	for i := range e.Details {
		e.Details[i] = redact.String(e.Details[i], secret)
	}
	e.Header = redactHeader(e.Header, secret)
	e.Body = redact.Bytes(e.Body, secret)
}

// redactHeader returns h, or a copy of it with secret replaced in its
// values when any holds it.
func redactHeader(h http.Header, secret string) http.Header {
	var out http.Header
	for k, vs := range h {
		for i, v := range vs {
			if r := redact.String(v, secret); r != v {
				if out == nil {
					out = h.Clone()
				}
				out[k][i] = r
			}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// FromResponse builds the error for an HTTP error status from the response's
// status, headers and request, and (a prefix of) its body, which the caller
// has read. truncated reports that body is a prefix. The body and the
// message taken from a non-JSON body are cut only after secret (the API
// key) is redacted, so that a key across a cut leaves no prefix of itself;
// the caller still calls Redact for the other fields.
func FromResponse(resp *http.Response, body []byte, truncated bool, secret string) *Error {
	e := newError(resp)
	e.RetryAfter, _ = RetryAfter(resp.Header, time.Now())
	e.setBody(body, truncated, secret)
	e.parseBody(body, truncated, secret)
	if e.Message == "" && len(bytes.TrimSpace(body)) == 0 {
		e.Message = "(empty body)"
	}
	return e
}

// FromStreamEvent builds the error for an error event inside the stream
// resp: data is `{"error": {...}, "status_code": N}`, or any text for
// `event: error`. The status is status_code when it is a positive integer,
// else 0: the stream's own 200 says nothing about the error. As in
// FromResponse, secret is redacted before any cut.
func FromStreamEvent(resp *http.Response, data []byte, secret string) *Error {
	e := newError(resp)
	e.InStream = true
	e.StatusCode = 0
	e.setBody(data, false, secret)
	var probe struct {
		StatusCode json.RawMessage `json:"status_code"`
	}
	if json.Unmarshal(data, &probe) == nil {
		if n, err := strconv.Atoi(string(probe.StatusCode)); err == nil && n > 0 {
			e.StatusCode = n
		}
	}
	e.parseBody(data, false, secret)
	if e.Message == "" {
		e.Message = "an error occurred during streaming"
	}
	return e
}

// newError fills what every error takes from the response: its status,
// headers and the method and path of its request (not the query string).
func newError(resp *http.Response) *Error {
	h := resp.Header
	e := &Error{StatusCode: resp.StatusCode, Header: h, RateLimit: ParseRateLimit(h), RequestID: requestID(h)}
	if req := resp.Request; req != nil {
		e.Method = req.Method
		if req.URL != nil {
			e.Path = req.URL.Path
		}
	}
	return e
}

// setBody keeps the first MaxBody bytes of the redacted body.
func (e *Error) setBody(body []byte, truncated bool, secret string) {
	b, cut := redact.Prefix(body, secret, MaxBody, truncated)
	e.Body = bytes.Clone(b)
	e.BodyTruncated = cut
}

// parseBody fills the fields from the wrapped {"error":{...}}, flat
// {message,type,param,code}, FastAPI {"detail": ...} or non-JSON shapes.
// truncated and secret are for textMessage's cut.
func (e *Error) parseBody(body []byte, truncated bool, secret string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		e.Message = textMessage(body, truncated, secret)
		return
	}
	fields := top
	if raw, ok := top["error"]; ok {
		var inner map[string]json.RawMessage
		switch {
		case json.Unmarshal(raw, &inner) == nil && inner != nil:
			fields = inner
		default:
			if s, ok := jsonString(raw); ok {
				e.Message = s
			}
		}
	}
	e.Type, _ = jsonString(fields["type"])
	e.Code, _ = jsonString(fields["code"])
	e.Param, _ = jsonString(fields["param"])
	e.ID, _ = jsonString(fields["id"])
	if m, ok := jsonString(fields["message"]); ok {
		e.Message = m
	}
	if raw, ok := top["detail"]; ok && e.Message == "" {
		e.parseDetail(raw)
	}
}

func (e *Error) parseDetail(raw json.RawMessage) {
	if s, ok := jsonString(raw); ok {
		e.Message = s
		return
	}
	var items []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return
	}
	for _, it := range items {
		loc := make([]string, len(it.Loc))
		for i, l := range it.Loc {
			loc[i] = fmt.Sprint(l)
		}
		d := it.Msg
		if len(loc) > 0 {
			d = strings.Join(loc, ".") + ": " + it.Msg
		}
		e.Details = append(e.Details, d)
	}
	e.Message = strings.Join(e.Details, "; ")
}

// jsonString decodes a JSON string, or a number or boolean as its text
// (some servers send numeric codes); null and absent give "", false.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	switch raw[0] {
	case '{', '[':
		return "", false
	}
	return string(raw), true
}

// textMessage turns a non-JSON body (plain text, HTML) into a one-line
// message of bounded length, redacted before it is cut (truncated reports
// that body is a prefix of the response's).
func textMessage(body []byte, truncated bool, secret string) string {
	s, cut := redact.PrefixString(strings.Join(strings.Fields(string(body)), " "), secret, maxMessage, truncated)
	if cut {
		// Drop a rune the cut split, rather than show it as U+FFFD.
		for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				if !utf8.FullRuneInString(s[i:]) {
					s = s[:i]
				}
				break
			}
		}
		s += "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func requestID(h http.Header) string {
	for _, k := range []string{HeaderXRequestID, "Cf-Ray"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}
