package client

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/cerebras-go/cerebras/internal/redact"
)

// The API key, and the request body with the user's prompts, go only to the
// origin of the base URL: its scheme, host and port. http.Client alone
// drops Authorization on a redirect to another host, but keeps it on a
// redirect to http or to another port of the same host, and re-sends the
// body on 307 and 308. So the SDK refuses every redirect that leaves the
// origin: in its own HTTP client, in a copy of a caller's *http.Client,
// and, for a middleware that points a request elsewhere, by dropping the
// key before the request reaches the Doer.

// maxRedirects is http.Client's own limit, kept for clients without a
// CheckRedirect of their own.
const maxRedirects = 10

// checkRedirect is an http.Client CheckRedirect that refuses, with a
// *RedirectError, a redirect to another origin than the first request's,
// and otherwise applies next (the caller's policy) or, when next is nil,
// http.Client's default limit.
func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, via[0].URL) {
			e := &RedirectError{From: displayURL(via[len(via)-1].URL), To: displayURL(req.URL)}
			if req.Response != nil {
				e.StatusCode = req.Response.StatusCode
			}
			return e
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// guardRedirects returns d, or, when d is an *http.Client, a shallow copy
// of it that also refuses redirects to another origin. The copy shares the
// Transport (and so the connections), the Jar and the Timeout.
func guardRedirects(d Doer) Doer {
	hc, ok := d.(*http.Client)
	if !ok || hc == nil {
		return d
	}
	g := *hc
	g.CheckRedirect = checkRedirect(hc.CheckRedirect)
	return &g
}

// keyStaysHome wraps the Doer below the middleware: a request that a
// middleware pointed at another origin than the base URL's is sent there
// without the SDK's Authorization header. A different Authorization the
// caller set (WithHeader, or the middleware itself) is left alone.
func (c *Client) keyStaysHome(cfg *config, next Next) Next {
	return func(r *http.Request) (*http.Response, error) {
		if r.URL != nil && !sameOrigin(r.URL, c.base) && len(cfg.authHeader) == 1 &&
			r.Header.Get("Authorization") == cfg.authHeader[0] {
			r = r.Clone(r.Context())
			r.Header.Del("Authorization")
			c.log(cfg, "cerebras: not sending the API key to another origin than the base URL's",
				slog.String("host", r.URL.Host))
		}
		return next(r)
	}
}

// sameOrigin reports whether a and b have the same scheme, host and port,
// a missing port being the scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// displayURL is u as an error may show it: without its query and fragment
// (which may carry tokens), and with any password masked.
func displayURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = "", false, "", ""
	return v.Redacted()
}

// redacted returns a copy of e with the key removed from its URLs: a
// server may echo it into a Location.
func (e *RedirectError) redacted(key string) *RedirectError {
	r := *e
	r.From, r.To = redact.String(e.From, key), redact.String(e.To, key)
	return &r
}
