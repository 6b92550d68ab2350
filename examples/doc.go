// Package examples holds one small program per capability of the SDK, each
// the idiomatic way to do that thing. Every program reads CEREBRAS_API_KEY
// (and CEREBRAS_BASE_URL, CEREBRAS_MODEL) from the environment, so the same
// code runs against the real API or, in `make demo` and `make test`, against
// the local fake server of package cerebrastest.
package examples
