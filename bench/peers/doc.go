// Package peers holds the benchmarks that run this SDK beside other Go
// OpenAI-compatible clients (openai-go, go-openai) in the same run. It is a
// module of its own, so that those clients never enter the SDK's go.mod:
// run it with `make bench-peers`.
package peers
