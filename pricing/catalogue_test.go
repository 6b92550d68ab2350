package pricing_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/pricing"
	"github.com/cerebras-go/cerebras/toolrunner"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newFake returns the fake API, validating against the repository's
// openapi.yaml, and a client for it that does not retry.
func newFake(t *testing.T) (*cerebrastest.Server, *client.Client) {
	t.Helper()
	srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("csk-test"), client.WithoutEnvironment(),
		client.WithTCPWarming(false), client.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return srv, c
}

// fetches counts the requests for the public catalogue the fake received.
func fetches(srv *cerebrastest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Path == "/public/v1/models" {
			n++
		}
	}
	return n
}

// catalogue returns a scripted answer to the next catalogue request: the
// models with their prices (prompt, completion, and more as the
// catalogue names them).
func catalogue(t *testing.T, models map[string]client.OpenRouterPricing) cerebrastest.Response {
	t.Helper()
	list := client.PublicModelList{Object: "list"}
	for id, p := range models {
		list.Data = append(list.Data, client.PublicModel{ID: id, Object: "model", Pricing: p})
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return cerebrastest.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: string(b), Path: "/public/v1/models"}
}

// TestCostAtCataloguePrices prices usages at the fake catalogue's prices
// (cerebrastest's package doc states them), to the picodollar.
func TestCostAtCataloguePrices(t *testing.T) {
	_, c := newFake(t)
	prices := &pricing.Catalogue{Models: c.Models}
	ctx := context.Background()
	usage := func(prompt, cached, completion int) *client.Usage {
		return &client.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
			PromptTokensDetails: client.PromptTokensDetails{CachedTokens: cached}}
	}
	for _, tc := range []struct {
		name  string
		model string
		usage *client.Usage
		want  pricing.Cost
		total string
	}{
		{"a small response", client.ModelGPTOSS120B, usage(12, 0, 10), pricing.Cost{Model: client.ModelGPTOSS120B,
			Prompt: 12 * 350_000, Completion: 10 * 750_000, Total: 11_700_000}, "$0.0000117"},
		{"cached tokens, without a cache-read price", client.ModelGPTOSS120B, usage(12, 4, 10), pricing.Cost{Model: client.ModelGPTOSS120B,
			Prompt: 8 * 350_000, CachedPrompt: 4 * 350_000, Completion: 10 * 750_000, Total: 11_700_000, CachedAtPromptPrice: true}, "$0.0000117"},
		{"cached tokens at the cache-read price", client.ModelZaiGLM47, usage(1000, 600, 500), pricing.Cost{Model: client.ModelZaiGLM47,
			Prompt: 400 * 2_250_000, CachedPrompt: 600 * 562_500, Completion: 500 * 2_750_000, Total: 2_612_500_000}, "$0.0026125"},
		{"a million tokens each way", client.ModelGemma431B, usage(1_000_000, 0, 1_000_000), pricing.Cost{Model: client.ModelGemma431B,
			Prompt: 20 * pricing.Cent, Completion: 40 * pricing.Cent, Total: 60 * pricing.Cent}, "$0.60"},
		{"a bulk run's sum", client.ModelGPTOSS120B, usage(2_000_000_000, 0, 1_000_000_000), pricing.Cost{Model: client.ModelGPTOSS120B,
			Prompt: 700 * pricing.Dollar, Completion: 750 * pricing.Dollar, Total: 1450 * pricing.Dollar}, "$1450.00"},
		{"more cached tokens than prompt tokens", client.ModelZaiGLM47, usage(10, 20, 0), pricing.Cost{Model: client.ModelZaiGLM47,
			CachedPrompt: 10 * 562_500, Total: 5_625_000}, "$0.000005625"},
		{"no tokens", client.ModelGPTOSS120B, usage(0, 0, 0), pricing.Cost{Model: client.ModelGPTOSS120B}, "$0.00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := prices.Cost(ctx, tc.model, tc.usage)
			if err != nil || got != tc.want || got.Total.String() != tc.total {
				t.Fatalf("Cost = %+v (%s), %v; want %+v (%s)", got, got.Total, err, tc.want, tc.total)
			}
		})
	}
	_, err := prices.Cost(ctx, client.ModelGPTOSS120B, usage(1<<45, 0, 0))
	if !errors.Is(err, pricing.ErrRange) {
		t.Errorf("a cost beyond USD's range: %v, want an ErrRange", err)
	}
	if _, err := prices.Cost(ctx, client.ModelGPTOSS120B, nil); !errors.Is(err, pricing.ErrNoUsage) {
		t.Errorf("no usage: %v, want ErrNoUsage", err)
	}
}

// TestCostOfResponses prices the usage of a response and of a tool run,
// summed over its turns, as the fake reports them.
func TestCostOfResponses(t *testing.T) {
	_, c := newFake(t)
	prices := &pricing.Catalogue{Models: c.Models}
	ctx := context.Background()
	price, err := prices.Price(ctx, client.ModelGPTOSS120B)
	if err != nil {
		t.Fatal(err)
	}
	want := func(u client.Usage) pricing.USD {
		return pricing.USD(u.PromptTokens)*350_000 + pricing.USD(u.CompletionTokens)*750_000
	}
	params := client.ChatCompletionNewParams{Model: client.ModelGPTOSS120B, Messages: []client.ChatMessage{client.UserMessage("Call get_weather for Paris.")}}
	resp, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := prices.Cost(ctx, resp.Model, resp.Usage)
	if err != nil || resp.Usage.PromptTokens == 0 || cost.Total != want(*resp.Usage) {
		t.Fatalf("response: %+v for %+v, %v; want a total of %s", cost, resp.Usage, err, want(*resp.Usage))
	}

	weather, err := toolrunner.NewTool("get_weather", "The weather in a city",
		func(ctx context.Context, a struct {
			City string `json:"city"`
		}) (string, error) {
			return "21 °C", nil
		})
	if err != nil {
		t.Fatal(err)
	}
	run, err := (&toolrunner.Runner{Chat: c.Chat.Completions, Tools: []toolrunner.Tool{weather}}).Run(ctx, params)
	if err != nil || run.Turns < 2 {
		t.Fatalf("tool run: %d turns, %v", run.Turns, err)
	}
	cost, err = price.Cost(&run.Usage)
	if err != nil || run.Usage.PromptTokens <= resp.Usage.PromptTokens || cost.Total != want(run.Usage) {
		t.Fatalf("tool run: %+v for %+v, %v; want a total of %s", cost, run.Usage, err, want(run.Usage))
	}
}

// TestCatalogueCachesAndRefreshes: the prices are fetched once, used for
// the TTL on the catalogue's clock, fetched again after it or on Refresh,
// and kept when a refresh fails.
func TestCatalogueCachesAndRefreshes(t *testing.T) {
	srv, c := newFake(t)
	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
	prices := &pricing.Catalogue{Models: c.Models, TTL: time.Hour, Now: clk.Now}
	ctx := context.Background()
	step := func(what string, wantFetches int, model string, wantPrompt pricing.USD) {
		t.Helper()
		p, err := prices.Price(ctx, model)
		if err != nil || p.Prompt != wantPrompt || fetches(srv) != wantFetches {
			t.Fatalf("%s: %s at %s, %v, after %d fetches; want %s after %d", what, model, p.Prompt, err, fetches(srv), wantPrompt, wantFetches)
		}
	}
	step("first use", 1, client.ModelGPTOSS120B, 350_000)
	step("again", 1, client.ModelZaiGLM47, 2_250_000)

	srv.Enqueue(catalogue(t, map[string]client.OpenRouterPricing{client.ModelGPTOSS120B: {Prompt: "0.0000004", Completion: "0.0000008"}}))
	clk.Advance(time.Hour - time.Nanosecond)
	step("just within the TTL", 1, client.ModelGPTOSS120B, 350_000)
	clk.Advance(time.Nanosecond)
	step("at the TTL", 2, client.ModelGPTOSS120B, 400_000)
	if _, err := prices.Price(ctx, client.ModelZaiGLM47); !errors.As(err, new(*pricing.UnknownModelError)) {
		t.Fatalf("a model gone from the catalogue: %v", err)
	}

	srv.Enqueue(catalogue(t, map[string]client.OpenRouterPricing{"new-model": {Prompt: "0.000001", Completion: "0.000002"}}))
	if err := prices.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	step("after Refresh", 3, "new-model", pricing.Microdollar)

	srv.Enqueue(cerebrastest.ErrorResponse(http.StatusBadRequest, "invalid_request_error", "bad", "no catalogue today"))
	var apiErr *client.APIError
	if err := prices.Refresh(ctx); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Fatalf("a failed refresh: %v", err)
	}
	step("after a failed refresh", 4, "new-model", pricing.Microdollar)
}

// blockingLister lists the catalogue through the client once released,
// counting its calls; entered receives each call as it starts.
type blockingLister struct {
	c       *client.Client
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (l *blockingLister) ListPublic(ctx context.Context, opts ...client.Option) (*client.PublicModelList, error) {
	l.calls.Add(1)
	l.entered <- struct{}{}
	<-l.release
	return l.c.Models.ListPublic(ctx, opts...)
}

// countingClock is a clock whose readings can be waited for: a Catalogue
// reads it once, under its lock, each time a call looks at its prices.
type countingClock struct {
	mu    sync.Mutex
	n     int
	reads chan int
}

func (c *countingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.reads <- c.n
	return time.Unix(1_700_000_000, 0)
}

// TestCatalogueSharesOneFetch: calls that need the prices while a fetch is
// under way wait for it and share its answer.
func TestCatalogueSharesOneFetch(t *testing.T) {
	const callers = 8
	_, c := newFake(t)
	l := &blockingLister{c: c, entered: make(chan struct{}, callers), release: make(chan struct{})}
	clk := &countingClock{reads: make(chan int, callers)}
	prices := &pricing.Catalogue{Models: l, Now: clk.Now}
	results := make(chan error, callers)
	for range callers {
		go func() {
			p, err := prices.Price(context.Background(), client.ModelGPTOSS120B)
			if err == nil && p.Prompt != 350_000 {
				err = errors.New("wrong price " + p.Prompt.String())
			}
			results <- err
		}()
	}
	<-l.entered // one call fetches
	for range callers {
		<-clk.reads // and every call has looked, each after the fetch began: they wait for it
	}
	close(l.release)
	for range callers {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if n := l.calls.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// TestCatalogueWaitOutlivesACancelledFetch: when the call that fetches is
// cancelled, a call that waited for its fetch sends one of its own.
func TestCatalogueWaitOutlivesACancelledFetch(t *testing.T) {
	_, c := newFake(t)
	l := &blockingLister{c: c, entered: make(chan struct{}, 2), release: make(chan struct{})}
	clk := &countingClock{reads: make(chan int, 4)}
	prices := &pricing.Catalogue{Models: l, Now: clk.Now}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := prices.Price(ctx, client.ModelGPTOSS120B); first <- err }()
	<-l.entered
	<-clk.reads
	second := make(chan error, 1)
	go func() { _, err := prices.Price(context.Background(), client.ModelGPTOSS120B); second <- err }()
	<-clk.reads // the second call waits for the first's fetch
	cancel()
	close(l.release)
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled call: %v", err)
	}
	if err := <-second; err != nil {
		t.Errorf("the call that waited: %v", err)
	}
	if n := l.calls.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

// TestUnknownModelAndBadPrices: a model the catalogue does not list, or
// lists without a price that can be read, is a typed error naming it.
func TestUnknownModelAndBadPrices(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	srv.Enqueue(catalogue(t, map[string]client.OpenRouterPricing{
		"good":        {Prompt: "0.000001", Completion: "0.000002", Request: "0", Image: "0.001"},
		"no-output":   {Prompt: "0.000001"},
		"variable":    {Prompt: "-1", Completion: "-1"},
		"not-decimal": {Prompt: "0.000001", Completion: "one dollar"},
		"too-precise": {Prompt: "0.000001", Completion: "0.000002", InputCacheRead: "0.0000000000001"},
	}))
	prices := &pricing.Catalogue{Models: c.Models}
	p, err := prices.Price(ctx, "good")
	if want := (pricing.Price{Model: "good", Prompt: pricing.Microdollar, Completion: 2 * pricing.Microdollar, Image: pricing.Dollar / 1000}); err != nil || p != want {
		t.Errorf("Price = %+v, %v; want %+v", p, err, want)
	}
	_, err = prices.Cost(ctx, "no-such-model", &client.Usage{})
	var unknown *pricing.UnknownModelError
	if !errors.As(err, &unknown) || unknown.Model != "no-such-model" || err.Error() != `cerebras: the public catalogue lists no model "no-such-model"` {
		t.Errorf("unknown model: %v", err)
	}
	for _, tc := range []struct {
		model, price, value string
		msg                 string
	}{
		{"no-output", "completion", "", `cerebras: the public catalogue gives model "no-output" no completion price`},
		{"variable", "prompt", "-1", `cerebras: the public catalogue's prompt price of model "variable": cerebras: -$1.00 is negative`},
		{"not-decimal", "completion", "one dollar", `cerebras: the public catalogue's completion price of model "not-decimal": cerebras: "one dollar" is not a decimal amount of dollars`},
		{"too-precise", "input_cache_read", "0.0000000000001", `cerebras: the public catalogue's input_cache_read price of model "too-precise": cerebras: amount beyond the range or the precision of pricing.USD: "0.0000000000001"`},
	} {
		_, err := prices.Cost(ctx, tc.model, &client.Usage{PromptTokens: 1})
		var pe *pricing.PriceError
		if !errors.As(err, &pe) || pe.Model != tc.model || pe.Price != tc.price || pe.Value != tc.value || err.Error() != tc.msg {
			t.Errorf("%s: %v (%+v); want %s", tc.model, err, pe, tc.msg)
		}
	}
	if fetches(srv) != 1 {
		t.Errorf("%d fetches, want 1", fetches(srv))
	}
}

func TestCatalogueSettings(t *testing.T) {
	_, c := newFake(t)
	for _, tc := range []struct {
		name  string
		cat   *pricing.Catalogue
		ctx   context.Context
		param string
	}{
		{"no Models", &pricing.Catalogue{}, context.Background(), "Catalogue.Models"},
		{"a negative TTL", &pricing.Catalogue{Models: c.Models, TTL: -time.Second}, context.Background(), "Catalogue.TTL"},
		{"a nil context", &pricing.Catalogue{Models: c.Models}, nil, "ctx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pe *client.ParamError
			if _, err := tc.cat.Price(tc.ctx, client.ModelGPTOSS120B); !errors.As(err, &pe) || pe.Param != tc.param {
				t.Fatalf("Price: %v, want a *client.ParamError for %s", err, tc.param)
			}
			if err := tc.cat.Refresh(tc.ctx); !errors.As(err, new(*client.ParamError)) {
				t.Fatalf("Refresh: %v, want a *client.ParamError", err)
			}
		})
	}
}
