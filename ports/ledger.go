package ports

import "time"

// The kinds of money events the accounting module posts to its ledger.
const (
	// LedgerPaymentSettled: an order's invoice is paid. SubtotalPence and
	// ShippingPence are income; ReceivedPence is what arrived in the wallet for the
	// order, valued in GBP at the invoice's rate, NOT counting an overpayment (which
	// comes as its own LedgerOverpayment event). ReceivedPence − TotalPence is a
	// rounding/FX difference (usually a penny or nothing).
	LedgerPaymentSettled = "payment_settled"
	// LedgerOverpayment: the customer paid AmountPence more than the total (and
	// AmountSats of bitcoin): it arrived in the wallet and is owed back (a liability)
	// until refunded.
	LedgerOverpayment = "overpayment"
	// LedgerLatePaymentAccepted: staff accepted a late or partial payment as payment
	// of the order: like LedgerPaymentSettled (ReceivedPence received for
	// SubtotalPence + ShippingPence of sales), and a shortfall is a difference too.
	LedgerLatePaymentAccepted = "late_payment_accepted"
	// LedgerRefund: money went back to the customer (AmountPence).
	LedgerRefund = "refund"
	// LedgerPaidOrderCancelled: a paid order was cancelled: its income is reversed and
	// owed to the customer until refunded.
	LedgerPaidOrderCancelled = "paid_order_cancelled"
	// LedgerPostagePurchased: a label was bought (AmountPence of postage).
	LedgerPostagePurchased = "postage_purchased"
)

// JobLedgerPost is the job type by which modules ask the accounting module to post a
// LedgerEvent (JSON payload). They enqueue it through the outbox in the transaction
// of the change, with Job.ID "ledger:" + event ID, so a change posts exactly once.
const JobLedgerPost = "accounting:post"

// LedgerEvent is a money event for the ledger. ID is unique per real-world event
// (e.g. "settled:<invoice id>"); posting the same ID twice posts nothing new.
type LedgerEvent struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	At          time.Time `json:"at"`
	OrderID     string    `json:"orderId,omitempty"`
	OrderNumber string    `json:"orderNumber,omitempty"`
	// Order amounts, in pence.
	SubtotalPence int64 `json:"subtotalPence,omitempty"`
	ShippingPence int64 `json:"shippingPence,omitempty"`
	TotalPence    int64 `json:"totalPence,omitempty"`
	// ReceivedPence is the GBP value of the bitcoin received; AmountPence the amount
	// of a refund, overpayment or postage.
	ReceivedPence int64 `json:"receivedPence,omitempty"`
	AmountPence   int64 `json:"amountPence,omitempty"`
	// Crypto that moved, where any did.
	AmountSats int64  `json:"amountSats,omitempty"`
	RatePence  int64  `json:"ratePence,omitempty"`
	Memo       string `json:"memo,omitempty"`
}
