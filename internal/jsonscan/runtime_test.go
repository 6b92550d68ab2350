package jsonscan

import (
	"errors"
	"fmt"
	"testing"
)

func TestOffset(t *testing.T) {
	var s Scanner
	s.Reset([]byte(` [ 1 ,  -2.5e3 ] `))
	if s.Offset() != 0 {
		t.Fatalf("Offset after Reset = %d, want 0", s.Offset())
	}
	if c := s.Peek(); c != '[' || s.Offset() != 1 {
		t.Fatalf("Peek = %q at %d, want '[' at 1", c, s.Offset())
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	var at []int
	var toks []string
	for first := true; ; {
		more, err := s.NextElem(&first)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
		s.Peek()
		at = append(at, s.Offset())
		tok, err := s.Raw()
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, string(tok))
	}
	if fmt.Sprint(at, toks) != "[3 8] [1 -2.5e3]" {
		t.Errorf("offsets, tokens = %v %q, want [3 8] [1 -2.5e3]", at, toks)
	}
	if s.Offset() != 16 {
		t.Errorf("Offset after ']' = %d, want 16", s.Offset())
	}
}

func TestSyntaxErrorReason(t *testing.T) {
	var s Scanner
	s.Reset([]byte(`[1,x]`))
	err := s.SkipValue()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("SkipValue: %v, want a *SyntaxError", err)
	}
	if se.Offset != 3 || se.Reason() != `unexpected 'x' looking for beginning of value` {
		t.Errorf("Offset, Reason = %d, %q", se.Offset, se.Reason())
	}
	if want := "invalid JSON at offset 3: " + se.Reason(); se.Error() != want {
		t.Errorf("Error = %q, want %q", se.Error(), want)
	}
}
