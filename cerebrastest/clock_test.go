package cerebrastest

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	c := NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Advance(24 * time.Hour)
	c.Advance(-time.Hour) // ignored
	if got, want := c.Now(), start.Add(24*time.Hour); !got.Equal(want) {
		t.Fatalf("after Advance: %v, want %v", got, want)
	}
	c.Set(start) // earlier: ignored
	c.Set(start.Add(48 * time.Hour))
	if got, want := c.Now(), start.Add(48*time.Hour); !got.Equal(want) {
		t.Fatalf("after Set: %v, want %v", got, want)
	}

	w := wallClock()
	before := w.Now()
	w.Advance(time.Hour)
	if d := w.Now().Sub(before); d < time.Hour {
		t.Fatalf("a following clock moved %v after Advance(1h)", d)
	}
	srv := NewServer(t)
	if srv.Clock() == nil {
		t.Fatal("a server without WithClock has no clock")
	}
	clk := NewClock(start)
	if got := NewServer(t, WithClock(clk)).Clock(); got != clk {
		t.Fatal("WithClock's clock is not the server's")
	}
}
