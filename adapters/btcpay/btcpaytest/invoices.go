package btcpaytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// invoice is the fake's state of an invoice. Crypto amounts are in millisatoshis.
type invoice struct {
	id, storeID string
	seq         int
	amount      *big.Rat // in currency
	amountText  string
	currency    string
	metadata    json.RawMessage // compact JSON object
	expMinutes  float64
	status      string
	additional  string
	created     time.Time
	expires     time.Time
	methods     []*method
	pullPayment string // the last refund's id
}

type method struct {
	id          string // 2.x id
	destination string
	amountMsat  int64
	payments    []*payment
}

type payment struct {
	id, destination, status string
	msat                    int64
	received                time.Time
}

// The BTC amounts of each method: on chain to the satoshi, on Lightning to the
// millisatoshi, both rounded up as BTCPay asks for at least the price.
func (s *Server) cryptoAmount(amount *big.Rat, methodID string) int64 {
	btc := new(big.Rat).Quo(amount, s.rate)
	unit := int64(1) // msat
	if methodID == "BTC-CHAIN" {
		unit = 1000
	}
	units := new(big.Rat).Mul(btc, new(big.Rat).SetInt64(100_000_000_000/unit))
	q := new(big.Int).Quo(units.Num(), units.Denom())
	if new(big.Int).Mul(q, units.Denom()).Cmp(units.Num()) != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64() * unit
}

// methodName is a method's id in the server's shape.
func (s *Server) methodName(id string) string {
	if s.cfg.Shape == V2 {
		return id
	}
	switch id {
	case "BTC-CHAIN":
		return "BTC"
	case "BTC-LN":
		return "BTC-LightningNetwork"
	case "BTC-LNURL":
		return "BTC-LNURLPAY"
	}
	return id
}

// methodID reads a method id of either shape.
func methodID(name string) string {
	switch name {
	case "BTC", "BTC-CHAIN":
		return "BTC-CHAIN"
	case "BTC-LightningNetwork", "BTC-LN":
		return "BTC-LN"
	}
	return name
}

// newInvoice creates an invoice in store (the lock held).
func (s *Server) newInvoice(store string, amount *big.Rat, currency string, metadata json.RawMessage, expMinutes float64) *invoice {
	now := s.cfg.Clock().UTC().Truncate(time.Second)
	s.seq++
	inv := &invoice{id: newID(), storeID: store, seq: s.seq, amount: amount, amountText: amount.FloatString(2), currency: currency,
		metadata: metadata, expMinutes: expMinutes, status: "New", additional: "None", created: now,
		expires: now.Add(time.Duration(expMinutes * float64(time.Minute)))}
	for _, id := range s.cfg.Methods {
		m := &method{id: id, amountMsat: s.cryptoAmount(amount, id)}
		h := sha256.Sum256([]byte(inv.id + id))
		switch id {
		case "BTC-CHAIN":
			m.destination = "bcrt1q" + bech32ish(h[:], 38)
		default:
			m.destination = fmt.Sprintf("lnbcrt%dn1p%s", (m.amountMsat+99)/100, bech32ish(h[:], 180))
		}
		inv.methods = append(inv.methods, m)
	}
	s.invoices[inv.id] = inv
	return inv
}

func bech32ish(seed []byte, n int) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	out := make([]byte, n)
	for i := range out {
		out[i] = charset[(int(seed[i%len(seed)])+i*7)%32]
	}
	return string(out)
}

// CreateInvoice makes an invoice directly (no API call) in any store, e.g.
// OtherStoreID, with any metadata (nil: none); amount is a GBP decimal string. It
// returns the invoice id.
func (s *Server) CreateInvoice(store, amount string, metadata map[string]any) string {
	a, ok := new(big.Rat).SetString(amount)
	if !ok {
		panic("btcpaytest: CreateInvoice amount " + amount)
	}
	md := json.RawMessage("{}")
	if metadata != nil {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(metadata); err != nil {
			panic(err)
		}
		md = bytes.TrimSpace(b.Bytes())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newInvoice(store, a, "GBP", md, 15).id
}

func (s *Server) createInvoiceCall(store string, body []byte) answer {
	var req struct {
		Amount   json.RawMessage `json:"amount"`
		Currency *string         `json:"currency"`
		Metadata json.RawMessage `json:"metadata"`
		Checkout *struct {
			ExpirationMinutes *float64 `json:"expirationMinutes"`
		} `json:"checkout"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return invalid("", err.Error())
	}
	amount := new(big.Rat)
	if len(req.Amount) > 0 && string(req.Amount) != "null" {
		text := strings.Trim(string(req.Amount), `"`)
		if _, ok := amount.SetString(text); !ok {
			return invalid("amount", "The amount is not a number")
		}
		if amount.Sign() < 0 {
			return invalid("amount", "The amount should be 0 or more.")
		}
	}
	currency := "GBP"
	if req.Currency != nil && *req.Currency != "" {
		currency = strings.ToUpper(*req.Currency)
	}
	if currency != "GBP" {
		return invalid("currency", "btcpaytest has a rate for GBP only")
	}
	exp := 15.0
	if req.Checkout != nil && req.Checkout.ExpirationMinutes != nil {
		exp = *req.Checkout.ExpirationMinutes
		if exp < 0.5 {
			return invalid("checkout.expirationMinutes", "The expiration should be at least 30 seconds")
		}
	}
	md := json.RawMessage("{}")
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
		var err error
		if md, err = normalJSON(req.Metadata); err != nil || md[0] != '{' {
			return invalid("metadata", "metadata should be an object")
		}
	}
	inv := s.newInvoice(store, amount, currency, md, exp)
	return ok(s.invoiceJSON(inv, false))
}

func (s *Server) listInvoices(store string, q url.Values) answer {
	orderIDs := q["orderId"]
	status := q.Get("status")
	skip, _ := strconv.Atoi(q.Get("skip"))
	take, err := strconv.Atoi(q.Get("take"))
	if err != nil {
		take = -1
	}
	withMethods := q.Get("includePaymentMethods") == "true" && s.cfg.Shape == V2
	out := []map[string]any{}
	for _, inv := range s.sortedInvoices() {
		if inv.storeID != store || (status != "" && inv.status != status) {
			continue
		}
		if len(orderIDs) > 0 && !containsString(orderIDs, inv.orderID()) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if take >= 0 && len(out) >= take {
			break
		}
		out = append(out, s.invoiceJSON(inv, withMethods))
	}
	return ok(out)
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (inv *invoice) orderID() string {
	var md struct {
		OrderID any `json:"orderId"`
	}
	_ = json.Unmarshal(inv.metadata, &md)
	switch v := md.OrderID.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// paidMsat is what the accounted payments of every method add up to.
func (inv *invoice) paidMsat() int64 {
	var n int64
	for _, m := range inv.methods {
		for _, p := range m.payments {
			if p.status != "Invalid" {
				n += p.msat
			}
		}
	}
	return n
}

// dueMsat is the smallest and largest amount of the methods: paying the smallest in
// full pays the invoice; more than the largest overpays it.
func (inv *invoice) dueRange() (min, max int64) {
	for i, m := range inv.methods {
		if i == 0 || m.amountMsat < min {
			min = m.amountMsat
		}
		if m.amountMsat > max {
			max = m.amountMsat
		}
	}
	return min, max
}

// markable are the statuses an invoice may be marked to (InvoiceEntity's rules).
func (inv *invoice) markable() []string {
	marked := inv.additional == "Marked"
	var out []string
	switch {
	case inv.status == "New" || inv.status == "Processing" || inv.status == "Expired":
		out = []string{"Settled", "Invalid"}
	case inv.status == "Invalid":
		out = []string{"Settled"}
	case inv.status == "Settled" && marked:
		out = []string{"Invalid"}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func (s *Server) invoiceJSON(inv *invoice, withMethods bool) map[string]any {
	methods := []string{}
	for _, m := range inv.methods {
		methods = append(methods, s.methodName(m.id))
	}
	checkout := map[string]any{
		"speedPolicy": "MediumSpeed", "paymentMethods": methods, "defaultPaymentMethod": nil, "lazyPaymentMethods": false,
		"expirationMinutes": inv.expMinutes, "monitoringMinutes": 1440, "paymentTolerance": 0, "redirectURL": nil,
		"redirectAutomatically": false, "defaultLanguage": nil,
	}
	if s.cfg.Shape == V1 {
		checkout["requiresRefundEmail"] = false
		checkout["checkoutType"] = "V2"
	}
	out := map[string]any{
		"id": inv.id, "storeId": inv.storeID, "amount": inv.amountText, "currency": inv.currency, "type": "Standard",
		"checkoutLink": s.srv.URL + "/i/" + inv.id, "createdTime": inv.created.Unix(), "expirationTime": inv.expires.Unix(),
		"monitoringExpiration": inv.expires.Add(24 * time.Hour).Unix(), "status": inv.status, "additionalStatus": inv.additional,
		"availableStatusesForManualMarking": inv.markable(), "archived": false,
		"metadata": inv.metadata, "checkout": checkout,
		"receipt": map[string]any{"enabled": nil, "showQR": nil, "showPayments": nil},
	}
	if inv.amount.Sign() == 0 {
		out["type"] = "TopUp"
	}
	if s.cfg.Shape == V2 {
		paid := new(big.Rat).Mul(new(big.Rat).SetFrac64(inv.paidMsat(), 100_000_000_000), s.rate)
		out["paidAmount"] = paid.FloatString(2)
		if withMethods {
			out["paymentMethods"] = s.methodsJSON(inv, true)
		}
	}
	return out
}

// btcText renders millisatoshis as BTC: 8 decimals on chain, 11 on Lightning.
func btcText(msat int64, methodID string) string {
	if methodID == "BTC-CHAIN" {
		return new(big.Rat).SetFrac64(msat, 100_000_000_000).FloatString(8)
	}
	return new(big.Rat).SetFrac64(msat, 100_000_000_000).FloatString(11)
}

// ceilSatMsat rounds millisatoshis up to a whole satoshi.
func ceilSatMsat(msat int64) int64 {
	if msat%1000 == 0 || msat < 0 {
		return msat / 1000 * 1000
	}
	return (msat/1000 + 1) * 1000
}

func (s *Server) methodsJSON(inv *invoice, onlyAccounted bool) []map[string]any {
	total := inv.paidMsat()
	out := []map[string]any{}
	for _, m := range inv.methods {
		var own int64
		payments := []map[string]any{}
		for _, p := range m.payments {
			if p.status != "Invalid" {
				own += p.msat
			} else if onlyAccounted {
				continue
			}
			payments = append(payments, s.paymentJSON(m, p))
		}
		due := m.amountMsat - total
		totalShown := total
		if m.id == "BTC-CHAIN" {
			due = ceilSatMsat(due)
			totalShown = total / 1000 * 1000
		}
		link := ""
		if m.id == "BTC-CHAIN" {
			link = "bitcoin:" + m.destination
			if due > 0 {
				link += "?amount=" + strings.TrimRight(strings.TrimRight(btcText(due, m.id), "0"), ".")
			}
		} else {
			link = "lightning:" + strings.ToLower(m.destination)
		}
		pm := map[string]any{
			"destination": m.destination, "paymentLink": link, "rate": s.cfg.Rate,
			"paymentMethodPaid": btcText(own, m.id), "totalPaid": btcText(totalShown, m.id), "due": btcText(due, m.id),
			"amount": btcText(m.amountMsat, m.id), "payments": payments, "activated": true,
		}
		if s.cfg.Shape == V2 {
			pm["paymentMethodId"], pm["currency"], pm["paymentMethodFee"] = m.id, "BTC", "0.00000000"
			if m.id == "BTC-CHAIN" {
				pm["additionalData"] = map[string]any{"keyPath": "0/" + strconv.Itoa(inv.seq), "payjoinEnabled": false,
					"accountDerivation": nil, "recommendedFeeRate": "1", "paymentMethodFeeRate": "0"}
			} else {
				pm["additionalData"] = map[string]any{}
			}
		} else {
			pm["paymentMethod"], pm["cryptoCode"], pm["networkFee"] = s.methodName(m.id), "BTC", "0.00000000"
			pm["additionalData"] = map[string]any{}
		}
		out = append(out, pm)
	}
	return out
}

func (s *Server) paymentJSON(m *method, p *payment) map[string]any {
	return map[string]any{"id": p.id, "receivedDate": p.received.Unix(), "value": btcText(p.msat, m.id),
		"fee": btcText(0, m.id), "status": p.status, "destination": p.destination}
}

// Pay records a payment of sats to an invoice by method ("BTC-CHAIN" or "BTC-LN", or
// their 1.x names), Settled (confirmed; Lightning always is) or Processing (seen), and
// moves the invoice's status as BTCPay does. It returns the payment's id ("txid-vout"
// on chain, the payment hash on Lightning), or "" (and an error reported) for an
// unknown invoice or method.
func (s *Server) Pay(invoiceID, method string, sats int64, settled bool) string {
	return s.PayMsat(invoiceID, method, sats*1000, settled)
}

// PayMsat is Pay in millisatoshis (Lightning payments of a fraction of a satoshi).
func (s *Server) PayMsat(invoiceID, methodName string, msat int64, settled bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.invoices[invoiceID]
	if inv == nil {
		s.report("Pay: no invoice %q", invoiceID)
		return ""
	}
	var m *method
	for _, x := range inv.methods {
		if x.id == methodID(methodName) {
			m = x
		}
	}
	if m == nil {
		s.report("Pay: invoice %s has no method %q", invoiceID, methodName)
		return ""
	}
	p := &payment{destination: m.destination, msat: msat, status: "Processing", received: s.cfg.Clock().UTC().Truncate(time.Second)}
	if m.id == "BTC-CHAIN" {
		p.id = randomHex(32) + "-" + strconv.Itoa(len(m.payments))
	} else {
		p.id = randomHex(32)
		settled = true
	}
	if settled {
		p.status = "Settled"
	}
	m.payments = append(m.payments, p)
	s.updateStatus(inv)
	return p.id
}

// SettlePayment confirms a payment made with settled false, and updates the invoice.
func (s *Server) SettlePayment(invoiceID, paymentID string) {
	s.setPaymentStatus(invoiceID, paymentID, "Settled")
}

// InvalidatePayment marks a payment double spent or replaced, and updates the invoice.
func (s *Server) InvalidatePayment(invoiceID, paymentID string) {
	s.setPaymentStatus(invoiceID, paymentID, "Invalid")
}

func (s *Server) setPaymentStatus(invoiceID, paymentID, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.invoices[invoiceID]
	if inv == nil {
		s.report("no invoice %q", invoiceID)
		return
	}
	for _, m := range inv.methods {
		for _, p := range m.payments {
			if p.id == paymentID {
				p.status = status
				s.updateStatus(inv)
				return
			}
		}
	}
	s.report("invoice %s has no payment %q", invoiceID, paymentID)
}

// report tells the test of a misuse of the controls (the lock may be held).
func (s *Server) report(format string, args ...any) {
	if s.t != nil {
		s.t.Errorf("btcpaytest: "+format, args...)
	}
}

// updateStatus applies InvoiceWatcher's rules after a payment changed.
func (s *Server) updateStatus(inv *invoice) {
	if inv.additional == "Marked" {
		return
	}
	paid := inv.paidMsat()
	min, max := inv.dueRange()
	full := paid >= min
	switch {
	case inv.status == "Expired" || inv.status == "Invalid":
		switch {
		case full:
			inv.additional = "PaidLate"
		case paid > 0:
			inv.additional = "PaidPartial"
		}
	case full:
		inv.status = "Settled"
		for _, m := range inv.methods {
			for _, p := range m.payments {
				if p.status == "Processing" {
					inv.status = "Processing"
				}
			}
		}
		inv.additional = "None"
		if paid > max {
			inv.additional = "PaidOver"
		}
	case paid > 0:
		inv.status, inv.additional = "New", "PaidPartial"
	default:
		inv.status, inv.additional = "New", "None"
	}
}

// SetStatus sets an invoice's status and additionalStatus as they are, no rules applied.
func (s *Server) SetStatus(invoiceID, status, additionalStatus string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.invoices[invoiceID]
	if inv == nil {
		s.report("SetStatus: no invoice %q", invoiceID)
		return
	}
	inv.status, inv.additional = status, additionalStatus
}

// Expire expires an invoice now: Expired, PaidPartial when it was partly paid.
func (s *Server) Expire(invoiceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.invoices[invoiceID]
	if inv == nil {
		s.report("Expire: no invoice %q", invoiceID)
		return
	}
	inv.status, inv.additional = "Expired", "None"
	if inv.paidMsat() > 0 {
		inv.additional = "PaidPartial"
	}
	if now := s.cfg.Clock().UTC().Truncate(time.Second); now.Before(inv.expires) {
		inv.expires = now
	}
}

// Invoice is what Invoices tells of an invoice.
type Invoice struct {
	ID, StoreID, OrderID     string
	Amount, Currency         string
	Status, AdditionalStatus string
	Metadata                 json.RawMessage
	ExpirationMinutes        float64
	Payments                 int
}

// Invoices returns every invoice, newest first.
func (s *Server) Invoices() []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invoice
	for _, inv := range s.sortedInvoices() {
		n := 0
		for _, m := range inv.methods {
			n += len(m.payments)
		}
		out = append(out, Invoice{ID: inv.id, StoreID: inv.storeID, OrderID: inv.orderID(), Amount: inv.amountText,
			Currency: inv.currency, Status: inv.status, AdditionalStatus: inv.additional, Metadata: inv.metadata,
			ExpirationMinutes: inv.expMinutes, Payments: n})
	}
	return out
}

func (s *Server) markStatus(inv *invoice, body []byte) answer {
	var req struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return invalid("status", err.Error())
	}
	if !containsString(inv.markable(), req.Status) {
		return invalid("status", "Status can only be marked to invalid or settled within certain conditions")
	}
	inv.status, inv.additional = req.Status, "Marked"
	return ok(s.invoiceJSON(inv, false))
}

func (s *Server) refund(inv *invoice, body []byte) answer {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		return invalid("", err.Error())
	}
	var payout string
	switch {
	case s.cfg.Shape == V1:
		payout, _ = req["paymentMethod"].(string)
	default:
		if list, ok := req["payoutMethods"].([]any); ok && len(list) > 0 {
			payout, _ = list[0].(string)
		}
		if id, ok := req["payoutMethodId"].(string); ok && payout == "" {
			payout = id
		}
	}
	field := map[Shape]string{V1: "paymentMethod", V2: "payoutMethods"}[s.cfg.Shape]
	var m *method
	for _, x := range inv.methods {
		if x.id == methodID(payout) {
			m = x
		}
	}
	if m == nil {
		return invalid(field, "Please select one of the payment methods which were available for the original invoice")
	}
	refundable := inv.status == "Settled" || inv.status == "Invalid" ||
		(inv.status == "Expired" && (inv.additional == "PaidLate" || inv.additional == "PaidOver" || inv.additional == "PaidPartial"))
	if !refundable {
		return problem(http.StatusBadRequest, "non-refundable", "Cannot refund this invoice")
	}
	variant, _ := req["refundVariant"].(string)
	var amount, currency string
	paid := inv.paidMsat()
	switch variant {
	case "RateThen":
		amount, currency = btcText(paid, "BTC-CHAIN"), "BTC"
	case "CurrentRate":
		amount, currency = btcText(m.amountMsat, "BTC-CHAIN"), "BTC"
	case "OverpaidAmount":
		_, max := inv.dueRange()
		if inv.additional != "PaidOver" || paid <= max {
			return invalid("refundVariant", "Invoice is not overpaid")
		}
		amount, currency = btcText(paid-m.amountMsat, "BTC-CHAIN"), "BTC"
	case "Fiat":
		amount, currency = inv.amountText, inv.currency
	default:
		return invalid("refundVariant", "Please select a refund variant")
	}
	name, _ := req["name"].(string)
	if name == "" {
		name = "Refund " + inv.id
	}
	pp := &PullPayment{ID: newID(), InvoiceID: inv.id, Name: name, Amount: amount, Currency: currency,
		AutoApproveClaims: permits(s.permissions, "btcpay.store.cancreatepullpayments", inv.storeID), Request: req}
	pp.ViewLink = s.srv.URL + "/pull-payments/" + pp.ID
	s.pullPayments = append(s.pullPayments, pp)
	inv.pullPayment = pp.ID
	return ok(map[string]any{"id": pp.ID, "name": pp.Name, "description": "", "currency": currency, "amount": amount,
		"BOLT11Expiration": "30", "autoApproveClaims": pp.AutoApproveClaims, "archived": false, "viewLink": pp.ViewLink})
}

// normalJSON re-writes a JSON value compactly as BTCPay stores and echoes metadata: keys
// in their order, strings with only the escapes JSON needs ("<" stays "<").
func normalJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	// needComma[i]: a value at depth i was written; inObject[i]: depth i is an object,
	// keyNext[i]: the next string at depth i is a key.
	var needComma, inObject, keyNext []bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		d := len(needComma) - 1
		if delim, ok := tok.(json.Delim); ok && (delim == '}' || delim == ']') {
			out.WriteByte(byte(delim))
			needComma, inObject, keyNext = needComma[:d], inObject[:d], keyNext[:d]
			if d > 0 {
				keyNext[d-1] = inObject[d-1]
			}
			continue
		}
		if d >= 0 {
			if keyNext[d] && needComma[d] {
				out.WriteByte(',')
			} else if !inObject[d] && needComma[d] {
				out.WriteByte(',')
			}
			needComma[d] = true
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			needComma, inObject, keyNext = append(needComma, false), append(inObject, v == '{'), append(keyNext, v == '{')
			continue
		case json.Number:
			out.WriteString(v.String())
		default:
			if err := enc.Encode(v); err != nil {
				return nil, err
			}
			out.Truncate(out.Len() - 1)
		}
		if d >= 0 && inObject[d] {
			if keyNext[d] {
				out.WriteByte(':')
			}
			keyNext[d] = !keyNext[d]
		}
	}
	return json.RawMessage(out.Bytes()), nil
}
