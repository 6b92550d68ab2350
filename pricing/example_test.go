package pricing_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/pricing"
)

// The cost of a response, at the prices of the fake API's catalogue.
func ExampleCatalogue_Cost() {
	srv, err := cerebrastest.Start()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"), client.WithoutEnvironment())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	prices := &pricing.Catalogue{Models: c.Models}
	resp, err := c.Chat.Completions.New(ctx, client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Hello!")},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	cost, err := prices.Cost(ctx, resp.Model, resp.Usage)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%d prompt tokens: %s\n", resp.Usage.PromptTokens, cost.Prompt)
	fmt.Printf("%d completion tokens: %s\n", resp.Usage.CompletionTokens, cost.Completion)
	fmt.Println("total:", cost.Total)

	_, err = prices.Cost(ctx, "llama-3.3-70b", resp.Usage)
	var unknown *pricing.UnknownModelError
	fmt.Println(errors.As(err, &unknown), err)
	// Output:
	// 4 prompt tokens: $0.0000014
	// 14 completion tokens: $0.0000105
	// total: $0.0000119
	// true cerebras: the public catalogue lists no model "llama-3.3-70b"
}

// Cached prompt tokens cost less, when the catalogue gives a cache-read
// price.
func ExamplePrice_Cost() {
	price := pricing.Price{Model: "zai-glm-4.7", Prompt: 2250 * pricing.Nanodollar,
		Completion: 2750 * pricing.Nanodollar, CacheRead: 562_500 * pricing.Picodollar, HasCacheRead: true}
	cost, err := price.Cost(&client.Usage{PromptTokens: 10_000, CompletionTokens: 2_000,
		PromptTokensDetails: client.PromptTokensDetails{CachedTokens: 8_000}})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("prompt:", cost.Prompt)
	fmt.Println("cached prompt:", cost.CachedPrompt)
	fmt.Println("completion:", cost.Completion)
	fmt.Println("total:", cost.Total)
	// Output:
	// prompt: $0.0045
	// cached prompt: $0.0045
	// completion: $0.0055
	// total: $0.0145
}

func ExampleParseUSD() {
	budget, err := pricing.ParseUSD("0.50")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	perToken, _ := pricing.ParseUSD("0.00000035") // as the catalogue writes prices
	spent := 1_000_000 * perToken
	fmt.Println(spent, spent < budget, budget-spent)
	// Output: $0.35 true $0.15
}
