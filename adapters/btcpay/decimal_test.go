package btcpay

import (
	"encoding/json"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in    string
		exp   int
		mode  rounding
		want  int64
		error bool
	}{
		{"0.00024680", 8, roundExact, 24680, false},
		{"12.34", 2, roundExact, 1234, false},
		{"12.3", 2, roundExact, 1230, false},
		{"5", 2, roundExact, 500, false},
		{"-0.5", 2, roundExact, -50, false},
		{"0", 8, roundExact, 0, false},
		{"50000.00000000000000000000001", 2, roundHalfUp, 5_000_000, false}, // longer than an int64
		{"51234.5678", 2, roundHalfUp, 5_123_457, false},
		{"51234.565", 2, roundHalfUp, 5_123_457, false},
		{"51234.564999", 2, roundHalfUp, 5_123_456, false},
		{"-1.005", 2, roundHalfUp, -101, false},
		{"0.00024085321", 8, roundUp, 24086, false},
		{"0.00024085300", 8, roundUp, 24086, false},
		{"0.00024085000", 8, roundUp, 24085, false},
		{"-0.00000000999", 8, roundUp, 0, false}, // towards +∞
		{"0.000000015", 8, roundHalfUp, 2, false},
		{"0.000000014", 8, roundHalfUp, 1, false},
		{"1e-3", 8, roundExact, 100_000, false},
		{"2.5E+2", 0, roundExact, 250, false},
		{"25E-1", 1, roundExact, 25, false},
		{"92233720368.54775807", 8, roundExact, 9223372036854775807, false},
		{"92233720368.54775808", 8, roundExact, 0, true}, // overflow
		{"12.345", 2, roundExact, 0, true},               // would lose a digit
		{"", 2, roundExact, 0, true},
		{" 1", 2, roundExact, 0, true},
		{"1 ", 2, roundExact, 0, true},
		{"+1", 2, roundExact, 0, true},
		{".5", 2, roundExact, 0, true},
		{"1.", 2, roundExact, 0, true},
		{"-", 2, roundExact, 0, true},
		{"1,000.00", 2, roundExact, 0, true},
		{"1.2.3", 2, roundExact, 0, true},
		{"NaN", 2, roundExact, 0, true},
		{"Infinity", 2, roundExact, 0, true},
		{"0x10", 2, roundExact, 0, true},
		{"1e", 2, roundExact, 0, true},
		{"1e+", 2, roundExact, 0, true},
		{"1e999", 2, roundExact, 0, true},
		{"1e-200", 2, roundExact, 0, true},
		{"١٢", 2, roundExact, 0, true},
		{"123456789012345678901234567890123456789012345678901234567890123456789012345678901", 0, roundExact, 0, true},
	}
	for _, tt := range tests {
		d, err := parseDecimal(tt.in)
		var got int64
		if err == nil {
			got, err = d.units(tt.exp, tt.mode)
		}
		if (err != nil) != tt.error || (err == nil && got != tt.want) {
			t.Errorf("%q at 10^-%d (mode %d) = %d, %v; want %d, error %v", tt.in, tt.exp, tt.mode, got, err, tt.want, tt.error)
		}
	}
}

func TestDecimalStringAndMul(t *testing.T) {
	for in, want := range map[string]string{"0.00012": "0.00012", "-12.5": "-12.5", "1e3": "1000", "1e-3": "0.001", "-0.05": "-0.05"} {
		d, err := parseDecimal(in)
		if err != nil || d.String() != want {
			t.Errorf("%q: %q, %v; want %q", in, d.String(), err, want)
		}
	}
	a, _ := parseDecimal("0.00012345")
	b, _ := parseDecimal("50000.00")
	if got := a.mul(b).String(); got != "6.1725000000" {
		t.Errorf("mul %s", got)
	}
}

func TestJSONDecimal(t *testing.T) {
	var v struct {
		S jsonDecimal `json:"s"`
		N jsonDecimal `json:"n"`
		Z jsonDecimal `json:"z"`
		A jsonDecimal `json:"a"`
	}
	if err := json.Unmarshal([]byte(`{"s":"0.00012345","n":0.00012345,"z":null}`), &v); err != nil {
		t.Fatal(err)
	}
	for _, d := range []jsonDecimal{v.S, v.N} {
		if n, err := d.d.units(8, roundExact); !d.set || err != nil || n != 12345 {
			t.Errorf("%+v: %d %v", d, n, err)
		}
	}
	if v.Z.set || v.A.set {
		t.Errorf("null or absent should be unset: %+v %+v", v.Z, v.A)
	}
	for _, bad := range []string{`{"s":"abc"}`, `{"s":true}`, `{"s":"1e5000"}`, `{"s":{}}`, `{"s":" 1"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string][3]int{"2.4.1": {2, 4, 1}, "1.13.7.0": {1, 13, 7}, "v1.0.5": {1, 0, 5}, "2.0.0-rc1": {2, 0, 0}, "": {0, 0, 0}} {
		v := parseVersion(in)
		if [3]int{v.major, v.minor, v.patch} != want {
			t.Errorf("%q: %+v", in, v)
		}
	}
	if !parseVersion("2.4.1").atLeast(2, 4, 1) || parseVersion("2.4.0").atLeast(2, 4, 1) || !parseVersion("3.0.0").atLeast(2, 4, 1) {
		t.Error("atLeast")
	}
}

func TestTxidOf(t *testing.T) {
	for in, want := range map[string]string{"abc-0": "abc", "abc-12": "abc", "abc": "abc", "abc-": "abc-", "a-b": "a-b", "-1": "-1"} {
		if got := txidOf(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
