package payments

import "testing"

func TestFromGateway(t *testing.T) {
	tests := []struct {
		status, additional string
		sats               int64
		want               Status
		effect             Effect
	}{
		{"New", "None", 0, StatusPending, EffectNone},
		{"New", "", 0, StatusPending, EffectNone},
		{"New", "PaidPartial", 1000, StatusPartiallyPaid, EffectNone},
		{"New", "None", 5, StatusPartiallyPaid, EffectNone},
		{"Processing", "None", 1000, StatusConfirming, EffectNone},
		{"Processing", "PaidOver", 2000, StatusConfirming, EffectNone},
		{"Settled", "None", 1000, StatusPaid, EffectPaid},
		{"Settled", "Marked", 0, StatusPaid, EffectPaid},
		{"Settled", "PaidOver", 2000, StatusOverpaid, EffectPaid},
		{"Expired", "None", 0, StatusExpired, EffectExpired},
		{"Expired", "PaidPartial", 300, StatusPartiallyPaid, EffectHold},
		{"Expired", "None", 300, StatusPartiallyPaid, EffectHold},
		{"Expired", "PaidLate", 1000, StatusPaidLate, EffectHold},
		{"Invalid", "None", 1000, StatusInvalid, EffectHold},
		{"Invalid", "Marked", 0, StatusInvalid, EffectHold},
		{"Invalid", "Invalid", 0, StatusInvalid, EffectHold},
	}
	for _, tt := range tests {
		got, eff, err := FromGateway(tt.status, tt.additional, tt.sats)
		if err != nil || got != tt.want || eff != tt.effect {
			t.Errorf("FromGateway(%q, %q, %d) = %q, %q, %v; want %q, %q", tt.status, tt.additional, tt.sats, got, eff, err, tt.want, tt.effect)
		}
	}
	if _, _, err := FromGateway("Complete", "None", 0); err == nil {
		t.Error("an unknown status was accepted")
	}
}

func TestStatusPaid(t *testing.T) {
	for _, s := range Statuses {
		if s.Paid() != (s == StatusPaid || s == StatusOverpaid) {
			t.Errorf("%s.Paid() = %v", s, s.Paid())
		}
	}
}
