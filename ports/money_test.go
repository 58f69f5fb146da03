package ports

import (
	"strings"
	"testing"
)

func TestParseMinor(t *testing.T) {
	const max = 9999999999
	cases := []struct {
		in   string
		cur  string
		want int64
		err  string
	}{
		{"0.1", "GBP", 10, ""},
		{"12.34", "GBP", 1234, ""},
		{"12", "GBP", 1200, ""},
		{" 7.5 ", "GBP", 750, ""},
		{"£3", "GBP", 300, ""},
		{".5", "GBP", 50, ""},
		{"0", "GBP", 0, ""},
		{"1,000.00", "GBP", 100000, ""},
		{"12,345,678.90", "GBP", 1234567890, ""},
		{"99999999.99", "GBP", 9999999999, ""},
		{"100000000.00", "GBP", 0, "at most 99999999.99"},
		{"-1", "GBP", 0, "cannot be negative"},
		{"1.234", "GBP", 0, "at most 2 decimal places"},
		{"", "GBP", 0, "Enter an amount"},
		{"   ", "GBP", 0, "Enter an amount"},
		{"abc", "GBP", 0, "using digits"},
		{"12.3a", "GBP", 0, "using digits"},
		{"1e5", "GBP", 0, "using digits"},
		{"12.", "GBP", 0, "like 12.34"},
		{"1,00", "GBP", 0, "like 1,234.56"},
		{",100", "GBP", 0, "like 1,234.56"},
		{"1.2.3", "GBP", 0, "using digits"},
		{"٣", "GBP", 0, "using digits"},
		{"99999999999999999999", "GBP", 0, "too large"},
		{"0.00000001", "BTC", 1, ""},
		{"1.5", "BTC", 150000000, ""},
		{"0.000000001", "BTC", 0, "at most 8 decimal places"},
	}
	for _, tc := range cases {
		got, err := ParseMinor(tc.in, tc.cur, max)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseMinor(%q, %s) = %d, %v; want %d", tc.in, tc.cur, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseMinor(%q, %s) = %d, %v; want error containing %q", tc.in, tc.cur, got, err, tc.err)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	cases := []struct {
		minor int64
		cur   string
		want  string
	}{
		{0, "GBP", "0.00"}, {5, "GBP", "0.05"}, {1250, "GBP", "12.50"}, {-1250, "GBP", "-12.50"},
		{123456789, "GBP", "1234567.89"}, {1, "BTC", "0.00000001"}, {150000000, "BTC", "1.50000000"}, {7, "JPY", "7"},
	}
	for _, tc := range cases {
		if got := FormatMinor(tc.minor, tc.cur); got != tc.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", tc.minor, tc.cur, got, tc.want)
		}
		if tc.minor >= 0 && tc.cur != "JPY" {
			back, err := ParseMinor(tc.want, tc.cur, 0)
			if err != nil || back != tc.minor {
				t.Errorf("round trip of %q: %d, %v", tc.want, back, err)
			}
		}
	}
}

func TestSatsValue(t *testing.T) {
	for _, tt := range []struct{ sats, rate, want int64 }{
		{0, 5_000_000, 0},
		{20, 5_000_000, 1}, // 20 sats at £50,000 is a penny
		{9, 5_000_000, 0},  // 0.45p rounds down
		{10, 5_000_000, 1}, // 0.5p rounds up
		{100_000_000, 5_000_000, 5_000_000},
		{150_000_000, 4_123_456, 6_185_184},
		{2_100_000_000_000_000, 100_000_000_000, 2_100_000_000_000_000_000}, // every bitcoin at £1bn: no overflow
	} {
		if got := SatsValue(tt.sats, tt.rate); got != tt.want {
			t.Errorf("SatsValue(%d, %d) = %d, want %d", tt.sats, tt.rate, got, tt.want)
		}
	}
}
