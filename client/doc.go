// Package client is the Cerebras Inference API client that users import: it
// adds options, retries, typed errors and typed helpers on top of the
// generated core in package gen.
package client
