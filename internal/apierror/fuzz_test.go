package apierror

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func FuzzFromResponse(f *testing.F) {
	for _, s := range []string{
		`{"error":{"message":"m","type":"t","param":"p","code":"c","id":"i"}}`,
		`{"message":"flat","type":"too_many_requests_error","code":429}`,
		`{"detail":[{"loc":["body","messages",0],"msg":"Field required","type":"missing"}]}`,
		`{"detail":"Not Found"}`, `{"error":"plain"}`, `{"error":null}`, `<html><body>502</body></html>`, "", "line1\nline2",
		`{"error":{"message":"multi\nline"}}`, `[1,2]`, `"str"`, `{"error":{"code":{"nested":true}}}`,
	} {
		f.Add(502, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 999 {
			status = 500
		}
		e := FromResponse(&http.Response{StatusCode: status, Header: http.Header{"X-Request-Id": {"req"}}}, []byte(body), false, "")
		msg := e.Error()
		if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "cerebras: ") {
			t.Fatalf("Error() = %q", msg)
		}
		if len(e.Body) > MaxBody || e.StatusCode != status || e.RequestID != "req" {
			t.Fatalf("%+v", e)
		}
		if !bytes.HasPrefix([]byte(body), e.Body) {
			t.Fatal("the body was altered")
		}
		// A key as long as a real one is removed wherever it occurs.
		const key = "csk-secret-key-0123456789"
		e.Redact(key)
		if strings.Contains(e.Error(), key) || bytes.Contains(e.Body, []byte(key)) {
			t.Fatal("redaction failed")
		}
	})
}

func FuzzFromStreamEvent(f *testing.F) {
	for _, s := range []string{
		`{"error":{"message":"Tokens per minute limit exceeded","type":"too_many_requests_error","code":"token_quota_exceeded"},"status_code":429}`,
		`{"error":{"message":"x"},"status_code":"429"}`, `{"error":{},"status_code":-5}`, `upstream went away`, `{"error":"boom"}`, ``,
		`{"status_code":99999999999999999999}`,
		// A status with no HTTP status text: "1: message", not "1 : message".
		`{"error":{"message":"an error occurred during streaming"},"status_code":1}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		e := FromStreamEvent(&http.Response{StatusCode: 200, Header: http.Header{}}, []byte(data), "")
		// A status, when the event gave one, follows "error in stream: ";
		// without one, the message does (never a made-up 0 or 200).
		next := oneLine(e.Message)
		if e.StatusCode != 0 {
			next = strconv.Itoa(e.StatusCode) // then " Status Text" or ": message", if any
		}
		if !e.InStream || e.StatusCode < 0 || e.Message == "" || strings.ContainsAny(e.Error(), "\r\n") ||
			!strings.HasPrefix(e.Error(), "cerebras: error in stream: "+next) {
			t.Fatalf("%+v -> %q", e, e.Error())
		}
	})
}

func FuzzRateLimitAndRetryAfter(f *testing.F) {
	now := time.Unix(1696004797, 0)
	for _, s := range [][3]string{
		{"14400", "33011.382867097855", "250"}, {"-1", "NaN", "1e308"}, {"", "Inf", "0"}, {"9223372036854775808", "-3", "x"},
		{"1", now.Add(20 * time.Second).UTC().Format(http.TimeFormat), "1.5"},
		// Delays too large for a Duration, which once overflowed to the backoff.
		{"1", "99999999999", "1e15"}, {"1", "Infinity", "+Inf"}, {"1", "1e9", "-Inf"}, {"1", "-1e308", "NaN"},
		{"1", "Fri, 31 Dec 9999 23:59:59 GMT", "9223372036854.775807"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, limit, reset, retry string) {
		h := http.Header{}
		h.Set("X-Ratelimit-Limit-Tokens-Minute", limit)
		h.Set("X-Ratelimit-Remaining-Tokens-Minute", limit)
		h.Set("X-Ratelimit-Reset-Tokens-Minute", reset)
		h.Set("Retry-After", reset)
		h.Set("Retry-After-Ms", retry)
		rl := ParseRateLimit(h)
		if rl.TokensMinute.Reset < 0 || rl.RequestsDay.Present {
			t.Fatalf("%+v", rl)
		}
		d, ok := RetryAfter(h, now)
		if !ok && d != 0 {
			t.Fatalf("not ok but %s", d)
		}
		// However it is written, a delay of at least a minute is at least a
		// minute (saturating), so the retry cap sees it: never a short delay.
		for name, unit := range map[string]float64{"Retry-After": 1, "Retry-After-Ms": 1e-3} {
			for _, v := range []string{reset, retry} {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || !(f*unit >= 60) {
					continue
				}
				one := http.Header{}
				one.Set(name, v)
				if d, ok := RetryAfter(one, now); !ok || d < time.Minute {
					t.Fatalf("%s: %q = %s, %v; want at least a minute", name, v, d, ok)
				}
			}
		}
	})
}
