package toolrunner

import (
	"fmt"
	"testing"
)

// TestCallIDAvoidsTheTurnsIDs gives the turn a nonce the model has used:
// the id made for a call without one is another, and so is the next.
func TestCallIDAvoidsTheTurnsIDs(t *testing.T) {
	tn := &turn{number: 1, ids: map[string]bool{}, nonce: 0xc0ffee}
	taken := fmt.Sprintf("call_run_1_0_%016x", 0xc0ffee)
	if got := tn.callID(taken, 3); got != taken {
		t.Fatalf("callID(%q) = %q, want the model's id", taken, got)
	}
	made := tn.callID("", 0)
	if made == taken || len(made) != len(taken) || made[:len("call_run_1_0_")] != "call_run_1_0_" {
		t.Errorf("made %q for the call at index 0, beside the model's %q", made, taken)
	}
	if again := tn.callID("", 0); again == made || again == taken {
		t.Errorf("made %q twice", again)
	}
}
