package client

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/cerebras-go/cerebras/internal/redact"
)

// Everything the SDK hands a user (errors, the fields of errors, debug log
// lines, a printed Client) goes through package redact's one rule before it
// leaves the SDK: values are redacted when they are built, so that every
// way of printing them is safe, and the two values that must hold the key,
// Client and config, print themselves without it.

// maxResponseErrorBody bounds ResponseError.Body.
const maxResponseErrorBody = 1 << 10

// responseError is the *ResponseError of a success response whose body is
// not what it should be. The key is removed from the body and from the
// cause (a decoding error or a content type may quote the server). The
// body is cut by redact.Prefix, after redaction, so that a key across the
// cut leaves no prefix; partial reports that body is only the start of
// the response's.
func responseError(cl *call, status int, body []byte, partial bool, cause error) *ResponseError {
	key := cl.cfg.apiKey
	b, _ := redact.Prefix(body, key, maxResponseErrorBody, partial)
	return &ResponseError{StatusCode: status, Body: bytes.Clone(b), Err: redactErr(cause, key)}
}

// redactErr guarantees that err's message does not hold the API key (a
// transport error may quote a URL or header), by the rule of package redact.
// It keeps err in the chain for errors.Is and errors.As.
func redactErr(err error, key string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	r := redact.String(msg, key)
	if r == msg {
		return err
	}
	return &redactedError{msg: r, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// logAttrs writes a debug line for every log line of the SDK, with the key
// removed from every string attribute: a server can echo it into what is
// logged, such as the request id.
func logAttrs(ctx context.Context, cfg *config, msg string, attrs []slog.Attr) {
	for i, a := range attrs {
		if a.Value.Kind() == slog.KindString {
			if s, r := a.Value.String(), redact.String(a.Value.String(), cfg.apiKey); r != s {
				attrs[i].Value = slog.StringValue(r)
			}
		}
	}
	cfg.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

// redactURL returns raw with its userinfo, user and password alike, masked
// as "xxxxx": either can be the API key (http://csk-…@host). It works also
// when raw does not parse or has no "//", so an error about a bad base URL
// can quote it.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Opaque == "" {
		if u.User != nil {
			u.User = url.User("xxxxx")
		}
		return u.String()
	}
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+len("://")], raw[i+len("://"):]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return raw
	}
	return prefix + "xxxxx" + rest[at:]
}

// String describes the client by its base URL, such as
// "client.Client(https://api.cerebras.ai)". It never holds the API key.
func (c *Client) String() string {
	if c == nil {
		return "<nil>"
	}
	return "client.Client(" + c.baseURL() + ")"
}

// GoString is the %#v form: the base URL, and the API key masked.
func (c *Client) GoString() string {
	if c == nil {
		return "(*client.Client)(nil)"
	}
	return "&client.Client{baseURL: " + strconv.Quote(c.baseURL()) + ", apiKey: " + strconv.Quote(redact.Mask) + "}"
}

// Format prints the client with String (GoString for %#v) whatever the
// verb, so that no verb reaches the API key.
func (c *Client) Format(f fmt.State, verb rune) { format(f, verb, c.String(), c.GoString()) }

// LogValue logs the client as its base URL, never the API key.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("base_url", c.baseURL()))
}

func (c *Client) baseURL() string { return redact.String(c.base.Redacted(), c.cfg.apiKey) }

// String, GoString and Format keep the key out of a printed configuration.
func (c config) String() string {
	return "client.config{baseURL: " + c.printedBaseURL() + ", apiKey: " + redact.Mask + "}"
}

func (c config) GoString() string {
	return "client.config{baseURL: " + strconv.Quote(c.printedBaseURL()) + ", apiKey: " + strconv.Quote(redact.Mask) + "}"
}

func (c config) Format(f fmt.State, verb rune) { format(f, verb, c.String(), c.GoString()) }

func (c config) printedBaseURL() string { return redact.String(redactURL(c.baseURL), c.apiKey) }

// format prints s with the verb and flags of f, or goSyntax for %#v.
func format(f fmt.State, verb rune, s, goSyntax string) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprint(f, goSyntax)
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}
