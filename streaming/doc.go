// Package streaming decodes server-sent event streams from the Cerebras
// Inference API into typed chunks.
package streaming
