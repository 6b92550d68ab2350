// Package client is the Cerebras Inference API client that users import: it
// adds options, retries, typed errors and typed helpers on top of the core
// generated from openapi.yaml (package gen), and returns streams from
// package streaming. Every request and response type and enum constant is
// named from this package (types.gen.go), so user code never imports gen.
// Responses are plain values: only Usage, TimeInfo and the logprobs are
// pointers, nil when the server did not send them.
//
//	c, err := client.New() // reads CEREBRAS_API_KEY
//	if err != nil {
//		return err
//	}
//	resp, err := c.Chat.Completions.New(ctx, client.ChatCompletionNewParams{
//		Model:    client.ModelGPTOSS120B,
//		Messages: []client.ChatMessage{client.UserMessage("Hello!")},
//	})
//	if err != nil {
//		return err
//	}
//	fmt.Println(resp.Choices[0].Message.Content) // "" when the model only calls tools
//
// The API key and request bodies go only to the base URL's scheme, host
// and port: a redirect anywhere else fails with a *RedirectError, and no
// error, log line or printed Client holds the key.
//
// One Option type configures both the client (New) and single calls, where
// call options win. Failed attempts are retried (2 retries by default) on
// connection errors, timeouts, 408, 409, 429 and 5xx, honouring
// retry-after-ms, retry-after and x-should-retry. A stream whose 200 breaks,
// goes idle, ends or sends a retryable error event before its first event
// is sent again from the same budget; never after an event, which would
// repeat text. Errors are inspectable with errors.As (*APIError,
// *ConnectionError, *TimeoutError, *ResponseError, *ResponseTooLargeError,
// and *ParamError for anything refused before sending) and errors.Is
// (ErrRateLimit, ErrInvalidInput …).
//
// To write a tool loop by hand: FunctionToolFor derives a tool's schema from
// a Go type, DecodeArguments reads a call's arguments, and
// AssistantMessageFrom and ToolMessage continue the conversation. Package
// toolrunner runs the loop for you.
//
// Rate-limit pacing is opt-in: with WithRateLimitPacing(true) the client
// keeps the x-ratelimit-* budgets of the latest responses, per model and
// shared by all goroutines, reserves each completion's estimated cost
// before sending it, and holds a call that would overspend until the
// reset (at most WithPacingMaxWait, else a *RateLimitWaitError) instead of
// sending it into a 429.
//
// Files (FileService: upload, list, download, delete) and Batches
// (BatchService: create, list, cancel, wait) are in Private Preview: access
// on request; without it the API's error comes back as an *APIError.
// Package batchfile writes and reads their files, and its RunLocal needs no
// access: it runs the same input file through the chat API on this machine,
// resumably, and writes results batchfile.Results
// reads like a batch's output file.
package client
