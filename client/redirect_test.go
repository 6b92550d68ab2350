package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// origin is a loopback server, plain or TLS, that records every request it
// receives and answers with handle.
type origin struct {
	*httptest.Server
	mu     sync.Mutex
	got    []recorded
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

func newOrigin(t *testing.T, useTLS bool, handle func(w http.ResponseWriter, r *http.Request, n int)) *origin {
	t.Helper()
	o := &origin{handle: handle}
	o.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		n := len(o.got)
		o.got = append(o.got, recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		o.mu.Unlock()
		if o.handle != nil {
			o.handle(w, r, n)
			return
		}
		writeJSON(w, 200, chatJSON)
	}))
	if useTLS {
		o.StartTLS()
	} else {
		o.Start()
	}
	t.Cleanup(o.Close)
	return o
}

func (o *origin) requests() []recorded {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]recorded(nil), o.got...)
}

// port is the server's port.
func (o *origin) port() string {
	_, p, _ := net.SplitHostPort(o.Listener.Addr().String())
	return p
}

// trustingTLS trusts the certificate every httptest TLS server uses.
func trustingTLS(t *testing.T, srv *httptest.Server) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

// TestRedirectsStayOnTheBaseOrigin: the API key and the request body go only
// to the scheme, host and port of the base URL. A redirect anywhere else (a
// downgrade to http, another port, another host, even an upgrade to https)
// is refused with a *RedirectError and reaches nobody, with the SDK's own
// HTTP client and with a caller's *http.Client alike; a redirect within the
// origin is followed, key and body included.
func TestRedirectsStayOnTheBaseOrigin(t *testing.T) {
	cases := []struct {
		name   string
		tls    bool   // the API's scheme
		status int    // the redirect status
		list   bool   // send GET /v1/models instead of POST /v1/chat/completions
		to     string // Location: {api} is the API's host:port, {port} its port, {plain} and {tls} the traps' ports
		follow bool
	}{
		{name: "https to http on the same host", tls: true, status: 307, to: "http://127.0.0.1:{plain}/v1/chat/completions"},
		{name: "https to http on the same host, 302 GET", tls: true, status: 302, list: true, to: "http://127.0.0.1:{plain}/v1/models"},
		{name: "https to another port", tls: true, status: 308, to: "https://127.0.0.1:{tls}/v1/chat/completions"},
		{name: "another host on the same port", status: 307, to: "http://localhost:{port}/v1/chat/completions"},
		{name: "http to https on the same host", status: 307, to: "https://127.0.0.1:{tls}/v1/chat/completions"},
		{name: "same origin, relative", tls: true, status: 307, to: "/v1/chat/completions?hop=1", follow: true},
		{name: "same origin, absolute", status: 308, to: "http://{api}/v1/chat/completions?hop=1", follow: true},
	}
	doers := []struct {
		name string
		new  func(t *testing.T, tlsConf *tls.Config) Option // nil: the SDK's default client
	}{
		{name: "default client"},
		{name: "caller's http.Client", new: func(t *testing.T, tlsConf *tls.Config) Option {
			tr := &http.Transport{TLSClientConfig: tlsConf}
			t.Cleanup(tr.CloseIdleConnections)
			return WithHTTPClient(&http.Client{Transport: tr})
		}},
	}
	for _, d := range doers {
		for _, tc := range cases {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) {
				// Traps that must never be reached: plain http and TLS, on 127.0.0.1.
				plainTrap := newOrigin(t, false, nil)
				tlsTrap := newOrigin(t, true, nil)
				tlsConf := trustingTLS(t, tlsTrap.Server)
				var api *origin
				var location *strings.Replacer
				api = newOrigin(t, tc.tls, func(w http.ResponseWriter, r *http.Request, n int) {
					switch {
					case r.URL.Query().Get("hop") != "":
						writeJSON(w, 200, chatJSON)
					case r.URL.Path == "/v1/models" && r.Host != api.Listener.Addr().String():
						writeJSON(w, 200, modelsJSON) // reached by another name: a followed redirect
					case r.Host != api.Listener.Addr().String():
						writeJSON(w, 200, chatJSON)
					default:
						w.Header().Set("Location", location.Replace(tc.to))
						w.WriteHeader(tc.status)
					}
				})
				location = strings.NewReplacer("{api}", api.Listener.Addr().String(), "{port}", api.port(), "{plain}", plainTrap.port(), "{tls}", tlsTrap.port())
				opts := []Option{WithAPIKey(testKey), WithBaseURL(api.URL), WithoutEnvironment(), WithTCPWarming(false), WithMaxRetries(2)}
				if d.new != nil {
					opts = append(opts, d.new(t, tlsConf))
				}
				c, err := New(opts...)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.Close() })
				if c.ownsHTTP != nil {
					c.ownsHTTP.Transport.(*http.Transport).TLSClientConfig = tlsConf
				}

				ctx := context.Background()
				if tc.list {
					_, err = c.Models.List(ctx)
				} else {
					_, err = c.Chat.Completions.New(ctx, chatParams())
				}
				for _, trap := range []*origin{plainTrap, tlsTrap} {
					if got := trap.requests(); len(got) > 0 {
						t.Fatalf("%s received %d request(s), the first with Authorization %q and body %q",
							trap.URL, len(got), got[0].Header.Get("Authorization"), got[0].Body)
					}
				}
				got := api.requests()
				if tc.follow {
					if err != nil {
						t.Fatalf("same-origin redirect: %v", err)
					}
					if len(got) != 2 {
						t.Fatalf("the API received %d requests, want the request and its redirect", len(got))
					}
					if a := got[1].Header.Get("Authorization"); a != "Bearer "+testKey {
						t.Errorf("the redirected request carried Authorization %q", a)
					}
					if string(got[1].Body) != string(got[0].Body) || len(got[0].Body) == 0 {
						t.Errorf("the redirected request's body %q, want %q", got[1].Body, got[0].Body)
					}
					return
				}
				if len(got) != 1 {
					t.Errorf("the API received %d requests, want 1: a refused redirect is neither followed nor retried", len(got))
				}
				var re *RedirectError
				if !errors.As(err, &re) {
					t.Fatalf("err = %T %v, want a *RedirectError", err, err)
				}
				path := "/v1/chat/completions"
				if tc.list {
					path = "/v1/models"
				}
				to := location.Replace(tc.to)
				if re.StatusCode != tc.status || re.From != api.URL+path || re.To != to {
					t.Errorf("RedirectError{StatusCode: %d, From: %q, To: %q}, want {%d, %q, %q}", re.StatusCode, re.From, re.To, tc.status, api.URL+path, to)
				}
				if msg := err.Error(); !strings.Contains(msg, to) || !strings.Contains(msg, "redirect") {
					t.Errorf("the error %q does not name the redirect to %s", msg, to)
				}
			})
		}
	}
}

// TestMiddlewareCannotSendTheKeyElsewhere: a middleware that points a
// request at another origin sends it there without the SDK's API key.
func TestMiddlewareCannotSendTheKeyElsewhere(t *testing.T) {
	api := newOrigin(t, false, nil)
	elsewhere := newOrigin(t, false, nil)
	rewrite := WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) {
		r.URL.Host = elsewhere.Listener.Addr().String()
		r.Host = ""
		return next(r)
	})
	c, err := New(WithAPIKey(testKey), WithBaseURL(api.URL), WithoutEnvironment(), WithTCPWarming(false), rewrite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
		t.Fatal(err)
	}
	got := elsewhere.requests()
	if len(got) != 1 || len(api.requests()) != 0 {
		t.Fatalf("elsewhere received %d requests, the API %d; want 1 and 0", len(got), len(api.requests()))
	}
	if a := got[0].Header.Get("Authorization"); a != "" {
		t.Errorf("the other origin received Authorization %q", a)
	}
	// A header the caller set for that origin is theirs to send.
	custom := WithHeader("Authorization", "Basic Z2F0ZXdheQ==")
	if _, err := c.Chat.Completions.New(context.Background(), chatParams(), custom); err != nil {
		t.Fatal(err)
	}
	if a := elsewhere.requests()[1].Header.Get("Authorization"); a != "Basic Z2F0ZXdheQ==" {
		t.Errorf("the caller's own Authorization became %q", a)
	}
}
