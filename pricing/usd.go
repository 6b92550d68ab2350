package pricing

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// USD is an amount of US dollars, counted exactly in picodollars (10⁻¹²
// dollar), as time.Duration counts nanoseconds: amounts add and compare
// with + and <, and a price per token (the catalogue gives 8 decimal
// places; USD holds 12) times a number of tokens is exact, with no float
// rounding. Its range is about ±9.2 million dollars; Cost and ParseUSD
// report an amount beyond it with ErrRange, but + does not check.
type USD int64

// Units of USD.
const (
	Picodollar  USD = 1
	Nanodollar      = 1000 * Picodollar
	Microdollar     = 1000 * Nanodollar
	Cent            = 10_000 * Microdollar
	Dollar          = 100 * Cent
)

// ErrRange is wrapped by the error of an amount USD cannot hold exactly:
// beyond about ±9.2 million dollars, or with a fraction of a picodollar.
var ErrRange = errors.New("cerebras: amount beyond the range or the precision of pricing.USD")

// String returns the amount in dollars with every decimal it has, and at
// least two: "$0.0000117", "$1.50", "-$0.25".
func (u USD) String() string {
	sign, n := "", uint64(u)
	if u < 0 {
		sign, n = "-", -n // two's complement: right for math.MinInt64 too
	}
	frac := fmt.Sprintf("%012d", n%uint64(Dollar))
	frac = strings.TrimRight(frac, "0")
	if len(frac) < 2 {
		frac += "00"[len(frac):]
	}
	return sign + "$" + strconv.FormatUint(n/uint64(Dollar), 10) + "." + frac
}

// Dollars returns the amount in dollars as a float64, for display or
// metrics: the nearest float64, not always the exact amount.
func (u USD) Dollars() float64 { return float64(u) / float64(Dollar) }

// ParseUSD parses a decimal amount of dollars, as the public catalogue
// writes its prices ("0.00000035", also "3.5e-7"), or as String prints one
// ("$1.50", "-$0.25"). An amount USD cannot hold exactly (more than 12
// decimal places, or beyond its range) is an error that wraps ErrRange.
func ParseUSD(s string) (USD, error) {
	num, exp, ok := decimal(s)
	switch {
	case !ok:
		return 0, fmt.Errorf("cerebras: %q is not a decimal amount of dollars", s)
	case exp > maxExponent || exp < -maxExponent:
		// Not computed: 10^exp could take any time.
		if strings.Trim(num[:strings.IndexAny(num+"eE", "eE")], "-0.") == "" {
			return 0, nil
		}
		return 0, fmt.Errorf("%w: %q", ErrRange, s)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok { // decimal checked the syntax, which SetString takes
		return 0, fmt.Errorf("cerebras: %q is not a decimal amount of dollars", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(int64(Dollar)))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("%w: %q", ErrRange, s)
	}
	return USD(r.Num().Int64()), nil
}

// maxExponent is the largest exponent ParseUSD computes with; beyond it,
// an amount that is not 0 is refused with ErrRange (no one writes a price
// so).
const maxExponent = 1000

// decimal checks s against [-][$]digits[.digits][(e|E)[+|-]digits], with a
// digit in the mantissa, and returns it without the dollar sign, and its
// exponent (saturated beyond ±maxExponent).
func decimal(s string) (num string, exp int, ok bool) {
	num = s
	s = strings.TrimPrefix(s, "-")
	if strings.HasPrefix(s, "$") {
		num, s = strings.Replace(num, "$", "", 1), s[1:]
	}
	digits := func() string {
		n := 0
		for n < len(s) && '0' <= s[n] && s[n] <= '9' {
			n++
		}
		d := s[:n]
		s = s[n:]
		return d
	}
	mantissa := digits()
	if strings.HasPrefix(s, ".") {
		s = s[1:]
		mantissa += digits()
	}
	if mantissa == "" {
		return "", 0, false
	}
	if len(s) > 0 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		sign := 1
		if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
			if s[0] == '-' {
				sign = -1
			}
			s = s[1:]
		}
		d := digits()
		if d == "" {
			return "", 0, false
		}
		if d = strings.TrimLeft(d, "0"); len(d) > 4 {
			d = "99999" // saturated
		}
		e, _ := strconv.Atoi("0" + d)
		exp = sign * e
	}
	return num, exp, len(s) == 0
}

// mul returns n × price, for n and price not negative, and false when it
// is beyond USD's range.
func mul(n int, price USD) (USD, bool) {
	if n != 0 && int64(price) > math.MaxInt64/int64(n) {
		return 0, false
	}
	return USD(int64(n) * int64(price)), true
}

// add returns a + b, and false when it is beyond USD's range.
func add(a, b USD) (USD, bool) {
	s := a + b
	return s, (b >= 0) == (s >= a)
}
