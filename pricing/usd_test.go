package pricing

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestUSDString(t *testing.T) {
	for _, tc := range []struct {
		u    USD
		want string
	}{
		{0, "$0.00"},
		{Picodollar, "$0.000000000001"},
		{350 * Nanodollar, "$0.00000035"},
		{11_700_000, "$0.0000117"},
		{Cent, "$0.01"},
		{150 * Cent, "$1.50"},
		{1450 * Dollar, "$1450.00"},
		{-25 * Cent, "-$0.25"},
		{math.MaxInt64, "$9223372.036854775807"},
		{math.MinInt64, "-$9223372.036854775808"},
	} {
		if got := tc.u.String(); got != tc.want {
			t.Errorf("USD(%d).String() = %q, want %q", int64(tc.u), got, tc.want)
		}
	}
	if got := (150 * Cent).Dollars(); got != 1.5 {
		t.Errorf("Dollars() = %v, want 1.5", got)
	}
}

func TestParseUSD(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want USD
		err  string // "" for none; "range" for ErrRange
	}{
		{"0.00000035", 350 * Nanodollar, ""},
		{"3.5e-7", 350 * Nanodollar, ""},
		{"3.5E-07", 350 * Nanodollar, ""},
		{"0.0000005625", 562_500, ""},
		{"0.000000000001", Picodollar, ""},
		{"1", Dollar, ""},
		{"1.", Dollar, ""},
		{".5", 50 * Cent, ""},
		{"$1.50", 150 * Cent, ""},
		{"-$0.25", -25 * Cent, ""},
		{"-0.25", -25 * Cent, ""},
		{"0e99999", 0, ""},
		{"9223372.036854775807", math.MaxInt64, ""},
		{"-9223372.036854775808", math.MinInt64, ""},
		{"0.0000000000001", 0, "range"},
		{"9223372.036854775808", 0, "range"},
		{"1e7", 0, "range"},
		{"1e99999", 0, "range"},
		{"1e-99999", 0, "range"},
		{"", 0, "syntax"},
		{"-", 0, "syntax"},
		{"$", 0, "syntax"},
		{".", 0, "syntax"},
		{"1e", 0, "syntax"},
		{"1/3", 0, "syntax"},
		{"0x10", 0, "syntax"},
		{" 1", 0, "syntax"},
		{"1 ", 0, "syntax"},
		{"+1", 0, "syntax"},
		{"$-1", 0, "syntax"},
		{"--1", 0, "syntax"},
		{"1,5", 0, "syntax"},
		{"NaN", 0, "syntax"},
		{"Inf", 0, "syntax"},
	} {
		got, err := ParseUSD(tc.s)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseUSD(%q) = %d, %v; want %d", tc.s, got, err, tc.want)
		case tc.err == "range" && !errors.Is(err, ErrRange):
			t.Errorf("ParseUSD(%q) = %d, %v; want an ErrRange", tc.s, got, err)
		case tc.err == "syntax" && (err == nil || errors.Is(err, ErrRange) || !strings.Contains(err.Error(), "not a decimal amount")):
			t.Errorf("ParseUSD(%q) = %d, %v; want a syntax error", tc.s, got, err)
		}
	}
}

// FuzzParseUSD: what ParseUSD reads is the exact value math/big reads,
// and every amount's String parses back to it.
func FuzzParseUSD(f *testing.F) {
	for _, s := range []string{"0.00000035", "3.5e-7", "$1.50", "-$0.25", "1e-99999", "0.0000000000001", "1e", "1/3"} {
		f.Add(s, int64(0))
	}
	f.Add("", int64(math.MinInt64))
	f.Add("", int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		if got, err := ParseUSD(USD(n).String()); err != nil || got != USD(n) {
			t.Fatalf("ParseUSD(%q) = %d, %v; want %d", USD(n).String(), got, err, n)
		}
		u, err := ParseUSD(s)
		if err != nil {
			return
		}
		r, ok := new(big.Rat).SetString(strings.Replace(s, "$", "", 1))
		if !ok {
			t.Fatalf("ParseUSD(%q) = %d, but math/big reads no number", s, u)
		}
		if r.Mul(r, big.NewRat(int64(Dollar), 1)); r.Cmp(new(big.Rat).SetInt64(int64(u))) != 0 {
			t.Fatalf("ParseUSD(%q) = %d picodollars; math/big reads %s", s, u, r.FloatString(3))
		}
	})
}

func TestMulAdd(t *testing.T) {
	if v, ok := mul(1<<20, 350*Nanodollar); !ok || v != USD(1<<20)*350*Nanodollar {
		t.Errorf("mul = %d, %v", v, ok)
	}
	if _, ok := mul(1<<45, 350*Nanodollar); ok {
		t.Error("mul did not see an overflow")
	}
	if _, ok := mul(math.MaxInt64, 1); !ok {
		t.Error("mul saw an overflow at MaxInt64 × 1")
	}
	if _, ok := add(math.MaxInt64, 1); ok {
		t.Error("add did not see an overflow")
	}
	if v, ok := add(math.MaxInt64-1, 1); !ok || v != math.MaxInt64 {
		t.Errorf("add = %d, %v", v, ok)
	}
}
