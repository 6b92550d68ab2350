package cerebrastest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/cerebras-go/cerebras/gen"
)

func (x *exchange) completion() {
	var req gen.CompletionNewParams
	if !x.readRequest(&req, func() string { return req.Model }) {
		return
	}
	prompt := promptText(req.Prompt)
	text := " and so the story of \"" + prompt + "\" goes on, one token at a time."
	tokens := tokenize(text)
	finish := gen.FinishReasonStop
	limit := 16
	if req.MaxTokens != nil && *req.MaxTokens > 0 {
		limit = *req.MaxTokens
	}
	if len(tokens) > limit {
		tokens, finish = tokens[:limit], gen.FinishReasonLength
	}
	if req.Echo != nil && *req.Echo {
		tokens = append([]string{prompt}, tokens...)
	}
	n := 1
	if req.N != nil && *req.N > 1 {
		n = *req.N
	}
	id := fmt.Sprintf("cmpl-fake-%d", x.s.ids.Add(1))
	promptTokens := len(strings.Fields(prompt))
	usage := &gen.Usage{PromptTokens: promptTokens, CompletionTokens: n * len(tokens), TotalTokens: promptTokens + n*len(tokens)}
	if !x.admit(usage.TotalTokens) {
		return
	}
	if req.Stream != nil && *req.Stream {
		var events []string
		for i := range n {
			for _, t := range tokens {
				b, _ := json.Marshal(gen.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
					Choices: []gen.CompletionChoice{{Index: i, Text: t}}})
				events = append(events, string(b))
			}
			b, _ := json.Marshal(gen.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
				Choices: []gen.CompletionChoice{{Index: i, Text: "", FinishReason: finish}}})
			events = append(events, string(b))
		}
		b, _ := json.Marshal(gen.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
			Choices: []gen.CompletionChoice{}, Usage: usage, TimeInfo: timeInfo()})
		x.writeEvents(append(events, string(b)), "Completion")
		return
	}
	if !x.firstEventDelay(false) {
		return
	}
	c := gen.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model, SystemFingerprint: "fp_cerebrastest", Usage: usage, TimeInfo: timeInfo()}
	for i := range n {
		ch := gen.CompletionChoice{Index: i, Text: strings.Join(tokens, ""), FinishReason: finish}
		if req.Logprobs != nil && *req.Logprobs > 0 {
			lp := &gen.CompletionLogprobs{Tokens: tokens}
			offset := 0
			for k, t := range tokens {
				lp.TextOffset = append(lp.TextOffset, offset)
				lp.TokenLogprobs = append(lp.TokenLogprobs, -0.01*float64(k%10+1))
				lp.TopLogprobs = append(lp.TopLogprobs, map[string]float64{t: -0.01 * float64(k%10+1)})
				offset += len(t)
			}
			ch.Logprobs = lp
		}
		c.Choices = append(c.Choices, ch)
	}
	b, _ := json.Marshal(c)
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), "Completion")
}

func promptText(p gen.CompletionPrompt) string {
	if s, err := p.AsPromptText(); err == nil {
		return s
	}
	if ss, err := p.AsPromptTexts(); err == nil {
		return strings.Join(ss, " / ")
	}
	if ids, err := p.AsPromptTokenIDs(); err == nil {
		return fmt.Sprintf("%d token ids", len(ids))
	}
	return "a batch of token ids"
}
