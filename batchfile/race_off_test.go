//go:build !race

package batchfile

// raceEnabled: see race_on_test.go.
const raceEnabled = false
