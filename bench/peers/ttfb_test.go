package peers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openaigo "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/internal/msgpack"
)

// The TTFB benchmarks time a streamed chat completion from the call until
// its first event arrives, through a loopback proxy that limits the
// upstream bandwidth (client to server) as an uplink does, alternating in
// the same run between this SDK in each request encoding, openai-go and
// go-openai, all sending the same prompt to the same server. The server
// reads and decodes the whole body (gzip, msgpack) before it answers, as
// the API must, then sends one event and [DONE]. Each reports its median
// time per variant, the bytes each sent through the proxy, and the ratios
// of auto to the others.

// chunk is the one event the server streams.
const chunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-oss-120b","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`

// upstream is the API stand-in: it decodes the body as the API would and
// answers with a one-event stream.
func upstream(tb testing.TB) *httptest.Server {
	var failed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil && r.Header.Get("Content-Encoding") == "gzip" {
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
				body, err = io.ReadAll(zr)
			}
		}
		if err == nil && r.Header.Get("Content-Type") == "application/vnd.msgpack" {
			body, err = msgpack.ToJSON(nil, body)
		}
		if err == nil && !json.Valid(body) {
			err = errors.New("the body is not JSON")
		}
		if err != nil {
			if !failed.Swap(true) {
				tb.Errorf("upstream: %v", err)
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+chunk+"\n\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// throttle is a TCP proxy on 127.0.0.1 that forwards client bytes to the
// upstream at most rate bytes a second (0: unlimited), a segment at a
// time, each after its time on the link, and the answers unlimited. It
// counts the bytes clients send.
type throttle struct {
	ln       net.Listener
	upstream string
	rate     float64
	sent     atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
}

func startThrottle(tb testing.TB, upstream string, bitsPerSecond float64) *throttle {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	t := &throttle{ln: ln, upstream: upstream, rate: bitsPerSecond / 8}
	t.wg.Add(1)
	go t.accept()
	tb.Cleanup(t.stop)
	return t
}

func (t *throttle) url() string { return "http://" + t.ln.Addr().String() }

func (t *throttle) accept() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", t.upstream)
		if err != nil {
			c.Close()
			continue
		}
		t.mu.Lock()
		t.conns = append(t.conns, c, up)
		t.mu.Unlock()
		t.wg.Add(2)
		go func() { defer t.wg.Done(); t.pace(up, c); up.Close() }()
		go func() { defer t.wg.Done(); _, _ = io.Copy(c, up); c.Close() }()
	}
}

// pace copies src to dst, one TCP segment's worth at a time, each written
// when the link would have carried it. The link's schedule restarts only
// when the client had nothing to send (a read waited): a segment this
// process wrote late, on a busy machine, is made up by the next ones, so
// the rate holds whatever the scheduler does.
func (t *throttle) pace(dst, src net.Conn) {
	buf := make([]byte, 1448)
	var next time.Time
	for {
		before := time.Now()
		n, err := src.Read(buf)
		if n > 0 {
			if t.rate > 0 {
				if now := time.Now(); now.Sub(before) > idleRead && next.Before(now) {
					next = now
				}
				next = next.Add(time.Duration(float64(n) / t.rate * float64(time.Second)))
				time.Sleep(time.Until(next))
			}
			t.sent.Add(int64(n))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// idleRead is how long a read must wait for the link to count as idle.
const idleRead = 200 * time.Microsecond

func (t *throttle) stop() {
	t.ln.Close()
	t.mu.Lock()
	for _, c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// variant is one client sending the prompt: prepare builds its params,
// outside the timing (building a message is not sending it); the send it
// returns returns once the first event arrived, and finish drains and
// closes the stream.
type variant struct {
	name    string
	prepare func(prompt string) (send func(ctx context.Context) (finish func() error, err error))
}

func cerebrasVariant(tb testing.TB, url string, enc client.RequestEncoding) variant {
	c, err := client.New(client.WithBaseURL(url), client.WithAPIKey("k"), client.WithoutEnvironment(), client.WithTCPWarming(false),
		client.WithMaxRetries(0), client.WithRequestEncoding(enc))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return variant{name: string(enc), prepare: func(prompt string) func(context.Context) (func() error, error) {
		p := client.ChatCompletionNewParams{Model: client.ModelGPTOSS120B, Messages: []client.ChatMessage{client.UserMessage(prompt)}}
		return func(ctx context.Context) (func() error, error) {
			s, err := c.Chat.Completions.NewStreaming(ctx, p)
			if err != nil {
				return nil, err
			}
			if !s.Next() {
				return nil, fmt.Errorf("no first event: %v", s.Err())
			}
			return func() error {
				for s.Next() {
				}
				return errors.Join(s.Err(), s.Close())
			}, nil
		}
	}}
}

func openaiGoVariant(url string) variant {
	c := openaigo.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	return variant{name: "openai-go", prepare: func(prompt string) func(context.Context) (func() error, error) {
		p := openaigo.ChatCompletionNewParams{Model: "gpt-oss-120b", Messages: []openaigo.ChatCompletionMessageParamUnion{openaigo.UserMessage(prompt)}}
		return func(ctx context.Context) (func() error, error) {
			s := c.Chat.Completions.NewStreaming(ctx, p)
			if !s.Next() {
				return nil, fmt.Errorf("no first event: %v", s.Err())
			}
			return func() error {
				for s.Next() {
				}
				return errors.Join(s.Err(), s.Close())
			}, nil
		}
	}}
}

func goOpenAIVariant(url string) variant {
	cfg := goopenai.DefaultConfig("k")
	cfg.BaseURL = url + "/v1"
	c := goopenai.NewClientWithConfig(cfg)
	return variant{name: "go-openai", prepare: func(prompt string) func(context.Context) (func() error, error) {
		p := goopenai.ChatCompletionRequest{Model: "gpt-oss-120b", Stream: true,
			Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: prompt}}}
		return func(ctx context.Context) (func() error, error) {
			s, err := c.CreateChatCompletionStream(ctx, p)
			if err != nil {
				return nil, err
			}
			if _, err := s.Recv(); err != nil {
				return nil, fmt.Errorf("no first event: %w", err)
			}
			return func() error {
				for {
					if _, err := s.Recv(); err != nil {
						s.Close()
						if errors.Is(err, io.EOF) {
							return nil
						}
						return err
					}
				}
			}, nil
		}
	}}
}

// corpus returns n bytes of Go source from GOROOT/src/net/http: what a
// long prompt about code holds (prose, identifiers, punctuation, and the
// < > & that Go's JSON escapes).
func corpus(tb testing.TB, n int) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "src", "net", "http", "*.go"))
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		b.Write(src)
		if b.Len() >= n {
			return b.String()[:n]
		}
	}
	tb.Fatalf("GOROOT/src/net/http holds fewer than %d bytes of Go", n)
	return ""
}

// measure runs every variant b.N times, alternating, and returns each
// one's times and bytes sent per request.
func measure(b *testing.B, vs []variant, tr *throttle, prompt string) (times map[string][]time.Duration, wire map[string]int64) {
	ctx := context.Background()
	times, wire = map[string][]time.Duration{}, map[string]int64{}
	sends := map[string]func(context.Context) (func() error, error){}
	for _, v := range vs {
		sends[v.name] = v.prepare(prompt)
	}
	run := func(v variant, timed bool) {
		before := tr.sent.Load()
		start := time.Now()
		finish, err := sends[v.name](ctx)
		d := time.Since(start)
		if err == nil {
			err = finish()
		}
		if err != nil {
			b.Fatalf("%s: %v", v.name, err)
		}
		if timed {
			times[v.name] = append(times[v.name], d)
			wire[v.name] = tr.sent.Load() - before
		}
	}
	for _, v := range vs { // open each client's connection
		run(v, false)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range vs {
			run(vs[(i+j)%len(vs)], true)
		}
	}
	b.StopTimer()
	return times, wire
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkTTFB: a 256 KiB prompt and a small one over a 20 Mbit/s uplink,
// and the 256 KiB one over loopback without a limit (where only the
// clients' own time counts).
func BenchmarkTTFB(b *testing.B) {
	for _, tc := range []struct {
		name   string
		size   int
		bitsPS float64
	}{
		{"prompt=256KiB/link=20Mbit", 256 << 10, 20e6},
		{"prompt=256KiB/link=unlimited", 256 << 10, 0},
		{"prompt=200B/link=20Mbit", 200, 20e6},
	} {
		b.Run(tc.name, func(b *testing.B) {
			up := upstream(b)
			tr := startThrottle(b, up.Listener.Addr().String(), tc.bitsPS)
			vs := []variant{
				cerebrasVariant(b, tr.url(), client.RequestEncodingAuto),
				cerebrasVariant(b, tr.url(), client.RequestEncodingJSON),
				cerebrasVariant(b, tr.url(), client.RequestEncodingGzip),
				cerebrasVariant(b, tr.url(), client.RequestEncodingMsgpack),
				cerebrasVariant(b, tr.url(), client.RequestEncodingMsgpackGzip),
				openaiGoVariant(tr.url()),
				goOpenAIVariant(tr.url()),
			}
			times, wire := measure(b, vs, tr, corpus(b, tc.size))
			auto := median(times["auto"])
			for _, v := range vs {
				m := median(times[v.name])
				b.ReportMetric(float64(m.Microseconds())/1000, v.name+"-ms")
				b.ReportMetric(float64(wire[v.name]), v.name+"-wireB")
				if v.name != "auto" {
					b.ReportMetric(float64(auto)/float64(m), "auto/"+v.name)
				}
			}
		})
	}
}

// BenchmarkAutoThreshold measures where compressing starts to pay: JSON
// against gzip (at auto's level) for chat bodies around AutoEncodingMinSize,
// over 20 and 100 Mbit/s uplinks and loopback without a limit. It reports
// gzip's time as a ratio of plain JSON's, per size.
func BenchmarkAutoThreshold(b *testing.B) {
	for _, link := range []struct {
		name   string
		bitsPS float64
	}{{"20Mbit", 20e6}, {"100Mbit", 100e6}, {"unlimited", 0}} {
		for _, size := range thresholdSizes {
			b.Run(fmt.Sprintf("link=%s/body=%d", link.name, size), func(b *testing.B) {
				up := upstream(b)
				tr := startThrottle(b, up.Listener.Addr().String(), link.bitsPS)
				vs := []variant{
					cerebrasVariant(b, tr.url(), client.RequestEncodingJSON),
					cerebrasVariant(b, tr.url(), client.RequestEncodingGzip),
				}
				// The prompt that makes a JSON body of size bytes.
				overhead := len(`{"messages":[{"content":"","role":"user"}],"model":"gpt-oss-120b","stream":true}`)
				times, wire := measure(b, vs, tr, jsonSafe(corpus(b, 4*size), size-overhead))
				j, g := median(times["json"]), median(times["gzip"])
				b.ReportMetric(float64(g)/float64(j), "gzip/json")
				b.ReportMetric(float64(wire["json"]), "json-wireB")
				b.ReportMetric(float64(wire["gzip"]), "gzip-wireB")
			})
		}
	}
}

// jsonSafe returns the first n bytes of s that JSON writes as n bytes
// (dropping what it escapes), so a body's size is exact.
func jsonSafe(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// thresholdSizes are the JSON body sizes BenchmarkAutoThreshold measures.
var thresholdSizes = []int{256, 512, 1024, 2048, 2560, 3072, 3584, 4096, 8192, 12288, 16384}
