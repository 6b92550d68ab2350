package pricing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cerebras-go/cerebras/client"
)

// DefaultTTL is how long a Catalogue uses the prices it fetched when its
// TTL is 0: prices change seldom, and a fetch costs a request.
const DefaultTTL = time.Hour

// Lister lists the public model catalogue: the models endpoint of a
// *client.Client, c.Models, is one.
type Lister interface {
	ListPublic(ctx context.Context, opts ...client.Option) (*client.PublicModelList, error)
}

// Catalogue holds the prices of the public model catalogue (GET
// /public/v1/models, sent without an API key), fetched when first needed
// and again when they are older than TTL, or on Refresh. Its zero settings
// are the defaults; Models is required. A Catalogue is safe for concurrent
// use, and calls that need the prices at the same time share one fetch. It
// must not be copied after first use.
//
//	prices := &pricing.Catalogue{Models: c.Models}
//	cost, err := prices.Cost(ctx, resp.Model, resp.Usage)
type Catalogue struct {
	// Models lists the catalogue: c.Models.
	Models Lister
	// TTL is how long fetched prices are used before a call that needs
	// them fetches them again (0 means DefaultTTL). A failed fetch keeps
	// the prices it would have replaced: the next call tries again.
	TTL time.Duration
	// Now, if set, tells the time the TTL is measured on (a test's clock,
	// such as a cerebrastest.Clock's Now); nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	prices  map[string]entry // by model id; nil before the first fetch
	fetched time.Time        // when the fetch of prices was sent
	flight  *fetch           // the fetch under way, if any
}

// entry is one model of the catalogue: its prices, or why it has none.
type entry struct {
	price Price
	err   error
}

// fetch is one fetch of the catalogue, which concurrent calls share.
type fetch struct {
	done   chan struct{}
	prices map[string]entry
	err    error
	// cancelled says that the context of the call that sent it ended it:
	// the calls that waited for it send one of their own.
	cancelled bool
}

// Price returns a model's prices, as the catalogue fetched within the TTL
// lists them. Errors: an *UnknownModelError, a *PriceError, a
// *client.ParamError for a bad Catalogue, and those of the fetch (a
// *client.APIError …).
func (c *Catalogue) Price(ctx context.Context, model string) (Price, error) {
	prices, err := c.load(ctx, false)
	if err != nil {
		return Price{}, err
	}
	e, ok := prices[model]
	if !ok {
		return Price{}, &UnknownModelError{Model: model}
	}
	return e.price, e.err
}

// Cost returns what usage cost at model's prices: those of the response
// (resp.Model, resp.Usage), a tool run's summed usage (params.Model,
// &transcript.Usage), or a local bulk run's (&progress.Usage), each of one
// model. Errors: those of Price, and of Price.Cost.
func (c *Catalogue) Cost(ctx context.Context, model string, usage *client.Usage) (Cost, error) {
	p, err := c.Price(ctx, model)
	if err != nil {
		return Cost{}, err
	}
	return p.Cost(usage)
}

// Refresh fetches the prices now, whatever their age (a fetch under way
// serves), and uses them from then on. On an error, the prices fetched
// before stay.
func (c *Catalogue) Refresh(ctx context.Context) error {
	_, err := c.load(ctx, true)
	return err
}

// load returns the prices: those held, if younger than the TTL and not
// forced; else those of a fetch, the one under way or a new one.
func (c *Catalogue) load(ctx context.Context, force bool) (map[string]entry, error) {
	switch {
	case ctx == nil:
		return nil, &client.ParamError{Param: "ctx", Message: "nil Context"}
	case c.Models == nil:
		return nil, &client.ParamError{Param: "Catalogue.Models", Message: "Catalogue.Models is nil: set it to c.Models"}
	case c.TTL < 0:
		return nil, &client.ParamError{Param: "Catalogue.TTL", Message: fmt.Sprintf("Catalogue.TTL is %s: prices are kept for a positive time (0 means %s)", c.TTL, DefaultTTL)}
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	for {
		c.mu.Lock()
		now := c.now()
		if !force && c.prices != nil && now.Sub(c.fetched) < ttl {
			prices := c.prices
			c.mu.Unlock()
			return prices, nil
		}
		if f := c.flight; f != nil {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("cerebras: waiting for the public catalogue: %w", context.Cause(ctx))
			}
			if f.cancelled {
				continue
			}
			return f.prices, f.err
		}
		f := &fetch{done: make(chan struct{})}
		c.flight = f
		c.mu.Unlock()
		c.send(ctx, f, now)
		return f.prices, f.err
	}
}

// send runs fetch f, sent at now, and keeps its prices if it succeeds.
func (c *Catalogue) send(ctx context.Context, f *fetch, now time.Time) {
	defer func() { // also when Models panics: the waiting calls go on
		c.mu.Lock()
		c.flight = nil
		if f.err == nil && f.prices != nil {
			c.prices, c.fetched = f.prices, now
		} else if f.err == nil {
			f.err, f.cancelled = errors.New("cerebras: listing the public catalogue panicked"), true
		}
		c.mu.Unlock()
		close(f.done)
	}()
	list, err := c.Models.ListPublic(ctx)
	switch {
	case err != nil:
		f.err, f.cancelled = err, ctx.Err() != nil
		return
	case list == nil:
		f.err = errors.New("cerebras: Catalogue.Models listed no catalogue and no error")
		return
	}
	prices := make(map[string]entry, len(list.Data))
	for _, m := range list.Data {
		p, err := priceOf(m)
		prices[m.ID] = entry{p, err}
	}
	f.prices = prices
}

func (c *Catalogue) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Price is one model's prices, per token, as the public catalogue gives
// them.
type Price struct {
	// Model is the model id.
	Model string
	// Prompt is the price of a prompt (input) token.
	Prompt USD
	// Completion is the price of a completion (output) token, reasoning
	// tokens included.
	Completion USD
	// CacheRead is the price of a prompt token read from the prompt cache,
	// if HasCacheRead.
	CacheRead USD
	// HasCacheRead says whether the catalogue gives a cache-read price.
	HasCacheRead bool
	// Request is the price of a request and Image that of an image, 0 when
	// the catalogue gives none (no model has one today). A Cost leaves
	// them out, since a usage counts neither: add them for the requests
	// and images you know of.
	Request, Image USD
}

// priceOf reads a model's prices from the catalogue: the prompt and
// completion prices are required, and every price given must be an amount
// of dollars, 0 or more.
func priceOf(m client.PublicModel) (Price, error) {
	p := Price{Model: m.ID}
	for _, f := range []struct {
		name, value string
		dst         *USD
		required    bool
	}{
		{"prompt", m.Pricing.Prompt, &p.Prompt, true},
		{"completion", m.Pricing.Completion, &p.Completion, true},
		{"input_cache_read", m.Pricing.InputCacheRead, &p.CacheRead, false},
		{"request", m.Pricing.Request, &p.Request, false},
		{"image", m.Pricing.Image, &p.Image, false},
	} {
		if f.value == "" {
			if f.required {
				return Price{}, &PriceError{Model: m.ID, Price: f.name}
			}
			continue
		}
		v, err := ParseUSD(f.value)
		if err == nil && v < 0 {
			err = fmt.Errorf("cerebras: %s is negative", v)
		}
		if err != nil {
			return Price{}, &PriceError{Model: m.ID, Price: f.name, Value: f.value, Err: err}
		}
		*f.dst = v
	}
	p.HasCacheRead = m.Pricing.InputCacheRead != ""
	return p, nil
}

// Cost is what a usage cost, in parts.
type Cost struct {
	// Model is the model whose prices were used.
	Model string
	// Prompt is the cost of the prompt tokens not read from the prompt
	// cache.
	Prompt USD
	// CachedPrompt is the cost of the prompt tokens read from the prompt
	// cache (usage.prompt_tokens_details.cached_tokens): at the
	// catalogue's cache-read price, or at the prompt price when it gives
	// none (CachedAtPromptPrice).
	CachedPrompt USD
	// Completion is the cost of the completion tokens, reasoning tokens
	// included.
	Completion USD
	// Total is Prompt + CachedPrompt + Completion.
	Total USD
	// CachedAtPromptPrice says that cached prompt tokens were priced as
	// other prompt tokens, for want of a cache-read price: the cost is then
	// at most what the API charges.
	CachedAtPromptPrice bool
}

// Cost returns what usage cost at p: its prompt tokens (of which the cached
// ones at the cache-read price, if p has one) and its completion tokens.
// Image tokens (usage.image_tokens) are not priced apart: they are taken to
// be among the prompt tokens, as OpenAI-style usage counts them. Errors: ErrNoUsage for a nil usage, and one that wraps ErrRange
// for a cost beyond USD's range.
func (p Price) Cost(usage *client.Usage) (Cost, error) {
	if usage == nil {
		return Cost{}, ErrNoUsage
	}
	prompt := max(usage.PromptTokens, 0)
	cached := min(max(usage.PromptTokensDetails.CachedTokens, 0), prompt)
	cacheRead := p.CacheRead
	if !p.HasCacheRead {
		cacheRead = p.Prompt
	}
	c := Cost{Model: p.Model, CachedAtPromptPrice: cached > 0 && !p.HasCacheRead}
	inRange := true
	times := func(n int, price USD) USD {
		v, ok := mul(n, price)
		inRange = inRange && ok
		return v
	}
	plus := func(a, b USD) USD {
		v, ok := add(a, b)
		inRange = inRange && ok
		return v
	}
	c.Prompt = times(prompt-cached, p.Prompt)
	c.CachedPrompt = times(cached, cacheRead)
	c.Completion = times(max(usage.CompletionTokens, 0), p.Completion)
	c.Total = plus(plus(c.Prompt, c.CachedPrompt), c.Completion)
	if !inRange {
		return Cost{}, fmt.Errorf("%w: the cost of %d prompt and %d completion tokens of model %q",
			ErrRange, prompt, usage.CompletionTokens, p.Model)
	}
	return c, nil
}
