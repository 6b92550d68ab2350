//go:build race

package batchfile

// raceEnabled: the race detector makes reading slow (10–20×); the size
// tests read less under it, and `make test-go` runs them without it too.
const raceEnabled = true
