// Package pricing turns token usage into dollars, at the prices Cerebras'
// public model catalogue serves (GET /public/v1/models, no API key needed):
// the SDK ships no price list, which would be out of date the day a price
// changes.
//
//	prices := &pricing.Catalogue{Models: c.Models} // fetched when first needed, kept an hour
//	resp, err := c.Chat.Completions.New(ctx, params)
//	…
//	cost, err := prices.Cost(ctx, resp.Model, resp.Usage)
//	fmt.Println(cost.Total) // $0.0000117
//
// Amounts are USD, an exact count of picodollars: a price per token times
// a number of tokens involves no float rounding. Cached prompt tokens
// (usage.prompt_tokens_details.cached_tokens) are priced at the
// catalogue's cache-read price, or, for a model that has none, at the
// prompt price (Cost.CachedAtPromptPrice says so).
//
// A summed usage is priced like one response's, if its requests are of one
// model: a tool run's (toolrunner.Transcript.Usage) or a local bulk run's
// (batchfile.Progress.Usage).
//
// The package is built only on package client's exported API.
package pricing
