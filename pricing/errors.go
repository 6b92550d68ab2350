package pricing

import (
	"errors"
	"fmt"
)

// ErrNoUsage is the error of a cost asked for a nil usage: a response
// without one, such as a stream sent without stream_options.include_usage.
var ErrNoUsage = errors.New("cerebras: no usage to price")

// UnknownModelError is the error of a model the public catalogue does not
// list (a retired model, a typo, or one added since the prices were
// fetched: Catalogue.Refresh fetches them again).
type UnknownModelError struct {
	// Model is the model id.
	Model string
}

// Error names the model.
func (e *UnknownModelError) Error() string {
	return fmt.Sprintf("cerebras: the public catalogue lists no model %q", e.Model)
}

// PriceError is the error of a model the public catalogue lists without a
// price that a cost needs (the prompt or completion price), or with a price
// that is not an amount of dollars USD holds.
type PriceError struct {
	// Model is the model id.
	Model string
	// Price names the price as the catalogue does: "prompt", "completion",
	// "input_cache_read", "request" or "image".
	Price string
	// Value is the price as the catalogue gives it; "" when it gives none.
	Value string
	// Err says why Value is not a price: a syntax error, one that wraps
	// ErrRange, or a negative amount. Nil when the catalogue gives none.
	Err error
}

// Error names the model and the price.
func (e *PriceError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("cerebras: the public catalogue gives model %q no %s price", e.Model, e.Price)
	}
	return fmt.Sprintf("cerebras: the public catalogue's %s price of model %q: %v", e.Price, e.Model, e.Err)
}

// Unwrap returns Err.
func (e *PriceError) Unwrap() error { return e.Err }
