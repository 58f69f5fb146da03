package accounting_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"orderdesk/modules/accounting"
	"orderdesk/ports"
)

const orderID = "0190f3a4-7c1e-7000-8000-000000000001"

var at = time.Date(2026, 5, 14, 10, 30, 0, 0, time.UTC)

// ev is a valid event of kind for an order of £40.00 + £3.50 shipping.
func ev(kind string, f func(*ports.LedgerEvent)) ports.LedgerEvent {
	e := ports.LedgerEvent{ID: kind + ":inv-1", Kind: kind, At: at, OrderID: orderID, OrderNumber: "OD-10001",
		SubtotalPence: 4000, ShippingPence: 350, TotalPence: 4350}
	if f != nil {
		f(&e)
	}
	return e
}

// l writes a line: positive pence debit, negative credit, with optional sats and rate.
func l(account string, pence int64, crypto ...int64) accounting.Line {
	x := accounting.Line{Account: account}
	if pence > 0 {
		x.DebitPence = pence
	} else {
		x.CreditPence = -pence
	}
	if len(crypto) == 2 {
		x.AmountSats, x.RatePence = crypto[0], crypto[1]
	}
	return x
}

func TestLines(t *testing.T) {
	const sats, rate = 8_700_000, 5_000_000 // 0.087 BTC at £50,000
	cases := []struct {
		name string
		ev   ports.LedgerEvent
		owed accounting.Owed
		want []accounting.Line
	}{
		{"settled exactly", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ReceivedPence, e.AmountSats, e.RatePence = 4350, sats, rate
		}), accounting.Owed{}, []accounting.Line{
			l(accounting.AccWallet, 4350, sats, rate), l(accounting.AccSales, -4000), l(accounting.AccShipping, -350)}},
		{"settled with a rounding gain", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ReceivedPence, e.AmountSats, e.RatePence = 4352, sats, rate
		}), accounting.Owed{}, []accounting.Line{
			l(accounting.AccWallet, 4352, sats, rate), l(accounting.AccSales, -4000), l(accounting.AccShipping, -350), l(accounting.AccFX, -2)}},
		{"settled short by FX", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ReceivedPence, e.AmountSats, e.RatePence = 4340, sats, rate
		}), accounting.Owed{}, []accounting.Line{
			l(accounting.AccWallet, 4340, sats, rate), l(accounting.AccFX, 10), l(accounting.AccSales, -4000), l(accounting.AccShipping, -350)}},
		{"settled without shipping", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ShippingPence, e.TotalPence, e.ReceivedPence, e.AmountSats, e.RatePence = 0, 4000, 4000, sats, rate
		}), accounting.Owed{}, []accounting.Line{l(accounting.AccWallet, 4000, sats, rate), l(accounting.AccSales, -4000)}},
		{"settled with bitcoin but no rate", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ReceivedPence, e.AmountSats = 4350, sats
		}), accounting.Owed{}, []accounting.Line{
			l(accounting.AccWallet, 4350, sats, 0), l(accounting.AccSales, -4000), l(accounting.AccShipping, -350)}},
		{"marked paid outside BTCPay (no bitcoin)", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
			e.ReceivedPence, e.RatePence, e.Memo = 4350, rate, "paid outside BTCPay: bank transfer"
		}), accounting.Owed{}, []accounting.Line{
			l(accounting.AccOutside, 4350), l(accounting.AccSales, -4000), l(accounting.AccShipping, -350)}},
		{"overpayment", ev(ports.LedgerOverpayment, func(e *ports.LedgerEvent) {
			e.AmountPence, e.AmountSats, e.RatePence = 1000, 20_000, rate
		}), accounting.Owed{}, []accounting.Line{l(accounting.AccWallet, 1000, 20_000, rate), l(accounting.AccOverpayments, -1000)}},
		{"late payment accepted in full", ev(ports.LedgerLatePaymentAccepted, func(e *ports.LedgerEvent) {
			e.ReceivedPence, e.AmountSats, e.RatePence = 4350, sats, rate
		}), accounting.Owed{}, []accounting.Line{
			l(accounting.AccWallet, 4350, sats, rate), l(accounting.AccSales, -4000), l(accounting.AccShipping, -350)}},
		{"partial payment accepted", ev(ports.LedgerLatePaymentAccepted, func(e *ports.LedgerEvent) {
			e.ReceivedPence, e.AmountSats, e.RatePence = 4000, 80_000, rate
		}), accounting.Owed{}, []accounting.Line{
			l(accounting.AccWallet, 4000, 80_000, rate), l(accounting.AccFX, 350), l(accounting.AccSales, -4000), l(accounting.AccShipping, -350)}},
		{"paid order cancelled", ev(ports.LedgerPaidOrderCancelled, nil), accounting.Owed{}, []accounting.Line{
			l(accounting.AccSales, 4000), l(accounting.AccShipping, 350), l(accounting.AccRefundsPayable, -4350)}},
		{"refund of a cancelled order", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) {
			e.AmountPence, e.AmountSats, e.RatePence = 4350, sats, rate
		}), accounting.Owed{RefundsPayable: 4350}, []accounting.Line{
			l(accounting.AccRefundsPayable, 4350), l(accounting.AccWallet, -4350, sats, rate)}},
		{"refund of a cancelled, overpaid order", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.AmountPence = 5350 }),
			accounting.Owed{RefundsPayable: 4350, Overpaid: 1000}, []accounting.Line{
				l(accounting.AccRefundsPayable, 4350), l(accounting.AccOverpayments, 1000), l(accounting.AccWallet, -5350)}},
		{"refund of an overpayment only", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.AmountPence = 1000 }),
			accounting.Owed{Overpaid: 1000}, []accounting.Line{l(accounting.AccOverpayments, 1000), l(accounting.AccWallet, -1000)}},
		{"refund beyond what is owed", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.AmountPence = 5000 }),
			accounting.Owed{RefundsPayable: 4350}, []accounting.Line{
				l(accounting.AccRefundsPayable, 4350), l(accounting.AccRefunds, 650), l(accounting.AccWallet, -5000)}},
		{"refund of a delivered order", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.AmountPence = 1500 }),
			accounting.Owed{}, []accounting.Line{l(accounting.AccRefunds, 1500), l(accounting.AccWallet, -1500)}},
		{"refund with the rate but no bitcoin amount", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.AmountPence, e.RatePence = 1500, rate }),
			accounting.Owed{}, []accounting.Line{l(accounting.AccRefunds, 1500), l(accounting.AccWallet, -1500)}},
		{"refund when the ledger says the customer owes (after a reversal)", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.AmountPence = 1500 }),
			accounting.Owed{RefundsPayable: -200}, []accounting.Line{l(accounting.AccRefunds, 1500), l(accounting.AccWallet, -1500)}},
		{"postage", ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) { e.AmountPence = 385 }), accounting.Owed{},
			[]accounting.Line{l(accounting.AccPostage, 385), l(accounting.AccPostagePayable, -385)}},
		{"postage without an order", ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) {
			e.AmountPence, e.OrderID, e.OrderNumber = 385, "", ""
		}), accounting.Owed{}, []accounting.Line{l(accounting.AccPostage, 385), l(accounting.AccPostagePayable, -385)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := accounting.Lines(tc.ev, tc.owed)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				tc.want[i].LineNo = i + 1
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("lines\n got %+v\nwant %+v", got, tc.want)
			}
			if err := accounting.Balanced(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateEvent(t *testing.T) {
	cases := []struct {
		name, field string
		ev          ports.LedgerEvent
	}{
		{"no id", "id", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ID, e.ReceivedPence = "", 1 })},
		{"id too long", "id", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ID, e.ReceivedPence = strings.Repeat("x", 201), 1 })},
		{"id of a reversal", "id", ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) { e.ID, e.AmountPence = "reversal:1", 1 })},
		{"unknown kind", "kind", ev("gift", nil)},
		{"reversal is not an event", "kind", ev(accounting.KindReversal, nil)},
		{"no time", "at", ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) { e.At, e.AmountPence = time.Time{}, 1 })},
		{"no order", "orderId", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.OrderID, e.AmountPence = "", 1 })},
		{"order not a uuid", "orderId", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.OrderID, e.AmountPence = "OD-1", 1 })},
		{"negative amount", "amountPence", ev(ports.LedgerRefund, func(e *ports.LedgerEvent) { e.AmountPence = -5 })},
		{"huge amount", "receivedPence", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ReceivedPence = accounting.MaxPence + 1 })},
		{"negative sats", "amountSats", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ReceivedPence, e.AmountSats = 4350, -10 })},
		{"negative rate", "ratePence", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ReceivedPence, e.RatePence = 4350, -10 })},
		{"settled without receiving", "receivedPence", ev(ports.LedgerPaymentSettled, nil)},
		{"total not subtotal + shipping", "totalPence", ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) { e.ReceivedPence, e.TotalPence = 4350, 4351 })},
		{"no total", "totalPence", ev(ports.LedgerPaidOrderCancelled, func(e *ports.LedgerEvent) { e.SubtotalPence, e.ShippingPence, e.TotalPence = 0, 0, 0 })},
		{"late payment of nothing", "receivedPence", ev(ports.LedgerLatePaymentAccepted, nil)},
		{"refund of nothing", "amountPence", ev(ports.LedgerRefund, nil)},
		{"overpayment of nothing", "amountPence", ev(ports.LedgerOverpayment, nil)},
		{"postage of nothing", "amountPence", ev(ports.LedgerPostagePurchased, nil)},
		{"memo too long", "memo", ev(ports.LedgerPostagePurchased, func(e *ports.LedgerEvent) { e.AmountPence, e.Memo = 1, strings.Repeat("é", 501) })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := accounting.ValidateEvent(tc.ev)
			if ports.ErrorCodeOf(err) != ports.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			found := false
			for _, f := range ports.FieldErrorsOf(err) {
				found = found || f.Field == tc.field
			}
			if !found {
				t.Fatalf("fields %+v, want %s", ports.FieldErrorsOf(err), tc.field)
			}
			if _, err := accounting.Lines(tc.ev, accounting.Owed{}); ports.ErrorCodeOf(err) != ports.EINVALID {
				t.Fatalf("Lines accepted it: %v", err)
			}
		})
	}
}

func TestBalanced(t *testing.T) {
	cases := []struct {
		name  string
		lines []accounting.Line
		ok    bool
	}{
		{"two lines", []accounting.Line{l(accounting.AccWallet, 100), l(accounting.AccSales, -100)}, true},
		{"one line", []accounting.Line{l(accounting.AccWallet, 100)}, false},
		{"none", nil, false},
		{"unbalanced", []accounting.Line{l(accounting.AccWallet, 100), l(accounting.AccSales, -99)}, false},
		{"unknown account", []accounting.Line{l("9999", 100), l(accounting.AccSales, -100)}, false},
		{"account twice", []accounting.Line{l(accounting.AccWallet, 100), l(accounting.AccSales, -50), l(accounting.AccSales, -50)}, false},
		{"zero line", []accounting.Line{l(accounting.AccWallet, 100), l(accounting.AccSales, -100), {Account: accounting.AccFX}}, false},
		{"debit and credit on one line", []accounting.Line{{Account: accounting.AccWallet, DebitPence: 5, CreditPence: 5}, l(accounting.AccSales, 100), l(accounting.AccFX, -100)}, false},
		{"sats without rate", []accounting.Line{{Account: accounting.AccWallet, DebitPence: 100, AmountSats: 7}, l(accounting.AccSales, -100)}, true},
		{"rate without sats", []accounting.Line{{Account: accounting.AccWallet, DebitPence: 100, RatePence: 7}, l(accounting.AccSales, -100)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := accounting.Balanced(tc.lines); (err == nil) != tc.ok {
				t.Fatalf("Balanced = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestReversal(t *testing.T) {
	lines, err := accounting.Lines(ev(ports.LedgerPaymentSettled, func(e *ports.LedgerEvent) {
		e.ReceivedPence, e.AmountSats, e.RatePence = 4352, 87_000, 5_000_000
	}), accounting.Owed{})
	if err != nil {
		t.Fatal(err)
	}
	orig := accounting.NewEntry(ev(ports.LedgerPaymentSettled, nil), "system")
	orig.ID, orig.Lines = 7, lines
	later := at.Add(48 * time.Hour)
	rev, err := orig.Reversal(later, "  posted twice by mistake ", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if rev.Kind != accounting.KindReversal || rev.Source != "reversal:7" || *rev.Reverses != 7 || !rev.OccurredAt.Equal(later) ||
		rev.Memo != "posted twice by mistake" || rev.PostedBy != "alice" || *rev.OrderID != *orig.OrderID || rev.OrderNumber != "OD-10001" {
		t.Fatalf("reversal %+v", rev)
	}
	for i, x := range rev.Lines {
		o := orig.Lines[i]
		if x.Account != o.Account || x.DebitPence != o.CreditPence || x.CreditPence != o.DebitPence || x.AmountSats != o.AmountSats || x.RatePence != o.RatePence {
			t.Fatalf("line %d: %+v reverses %+v", i, x, o)
		}
	}
	if err := accounting.Balanced(rev.Lines); err != nil {
		t.Fatal(err)
	}

	rev.ID = 8
	refusals := []struct {
		name   string
		entry  *accounting.Entry
		reason string
		code   ports.ErrorCode
	}{
		{"no reason", orig, "  ", ports.EINVALID},
		{"reason too long", orig, strings.Repeat("x", accounting.MaxMemo+1), ports.EINVALID},
		{"a reversal", rev, "undo", ports.ECONFLICT},
		{"already reversed", func() *accounting.Entry { e := *orig; by := int64(8); e.ReversedBy = &by; return &e }(), "again", ports.ECONFLICT},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.entry.Reversal(later, tc.reason, "alice"); ports.ErrorCodeOf(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

func TestExplorerURL(t *testing.T) {
	const txid = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
	cases := []struct {
		name, tmpl string
		p          accounting.Payment
		want       string
	}{
		{"on chain", accounting.DefaultExplorerTxURL, accounting.Payment{Method: accounting.MethodOnChain, TxID: txid}, "https://mempool.space/tx/" + txid},
		{"another explorer", "https://blockstream.info/tx/{txid}?expand", accounting.Payment{Method: accounting.MethodOnChain, TxID: txid},
			"https://blockstream.info/tx/" + txid + "?expand"},
		{"lightning", accounting.DefaultExplorerTxURL, accounting.Payment{Method: accounting.MethodLightning, TxID: txid}, ""},
		{"no txid", accounting.DefaultExplorerTxURL, accounting.Payment{Method: accounting.MethodOnChain}, ""},
		{"txid that is not hex", accounting.DefaultExplorerTxURL, accounting.Payment{Method: accounting.MethodOnChain, TxID: "../admin"}, ""},
		{"template without the placeholder", "https://mempool.space/", accounting.Payment{Method: accounting.MethodOnChain, TxID: txid}, ""},
		{"template not on http", "javascript:alert('{txid}')", accounting.Payment{Method: accounting.MethodOnChain, TxID: txid}, ""},
		{"no template", "", accounting.Payment{Method: accounting.MethodOnChain, TxID: txid}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := accounting.ExplorerURL(tc.tmpl, tc.p); got != tc.want {
				t.Fatalf("ExplorerURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNormalizeOrderNumber(t *testing.T) {
	for in, want := range map[string]string{"10042": "OD-10042", " od-10042 ": "OD-10042", "OD-10042": "OD-10042", "": "", "abc": "ABC"} {
		if got := accounting.NormalizeOrderNumber(in); got != want {
			t.Errorf("NormalizeOrderNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
