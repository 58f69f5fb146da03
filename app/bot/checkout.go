package bot

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	tele "gopkg.in/telebot.v3"

	"orderdesk/web/api/client"
)

// onCheckout starts the checkout, or carries on where it stopped.
func (b *Bot) onCheckout(c tele.Context) error {
	s, err := b.store.update(uid(c), func(s *Session) error {
		s.Awaiting = nil
		if len(s.Cart) > 0 && s.Checkout == nil {
			s.Checkout = &Checkout{}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(s.Cart) == 0 {
		return b.showCart(c, s)
	}
	if s.Checkout.MethodID == "" {
		return b.askShipping(c)
	}
	return b.resume(c)
}

// checkoutOver answers a checkout button pressed when there is no checkout.
func (b *Bot) checkoutOver(c tele.Context) error {
	toast(c, "This checkout is over")
	return c.Send("This checkout is over. Your orders are under "+menuOrders+"; a new order starts from "+menuCart+".", mainMenu())
}

// askShipping shows the shipping methods.
func (b *Bot) askShipping(c tele.Context) error {
	methods, err := b.api.shippingMethods(ctx())
	if err != nil {
		return b.sorry(c, "list shipping methods", err)
	}
	if len(methods) == 0 {
		return c.Send("The shop offers no shipping at the moment, so orders cannot be placed. Please try again later; your cart is kept.")
	}
	s, err := b.store.update(uid(c), func(s *Session) error {
		if s.Checkout != nil {
			s.Checkout.Step, s.Checkout.Key = stepMethod, ""
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.Checkout == nil {
		return b.checkoutOver(c)
	}
	var rows [][]tele.InlineButton
	for _, m := range methods {
		label := m.Name + " — " + money(m.Price)
		if m.Express {
			label += " ⚡"
		}
		rows = append(rows, row(button(label, cbShip, m.Id.String())))
	}
	rows = append(rows, row(button("✖ Stop checkout", cbAbort, "")))
	return c.Send("🚚 <b>How should we send it?</b>", inline(rows...))
}

func (b *Bot) onShip(c tele.Context) error {
	methods, err := b.api.shippingMethods(ctx())
	if err != nil {
		return b.sorry(c, "list shipping methods", err)
	}
	var chosen *client.ShippingMethod
	for i := range methods {
		if methods[i].Id.String() == c.Data() {
			chosen = &methods[i]
		}
	}
	if chosen == nil {
		if err := c.Send("That shipping method is no longer offered: please choose another."); err != nil {
			return err
		}
		return b.askShipping(c)
	}
	s, err := b.store.update(uid(c), func(s *Session) error {
		if s.Checkout != nil {
			s.Checkout.MethodID, s.Checkout.MethodName, s.Checkout.MethodPrice = chosen.Id.String(), chosen.Name, chosen.Price.Amount
			s.Checkout.Step, s.Checkout.Key = "", ""
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.Checkout == nil {
		return b.checkoutOver(c)
	}
	toast(c, chosen.Name)
	return b.resume(c)
}

// resume asks the next unanswered address step, or shows the summary.
func (b *Bot) resume(c tele.Context) error {
	var field string
	s, err := b.store.update(uid(c), func(s *Session) error {
		if s.Checkout == nil || s.Checkout.MethodID == "" {
			return nil
		}
		field = s.Checkout.nextStep()
		s.Checkout.Step = field
		return nil
	})
	switch {
	case err != nil:
		return err
	case s.Checkout == nil:
		return b.checkoutOver(c)
	case s.Checkout.MethodID == "":
		return b.askShipping(c)
	case field == "":
		return b.showSummary(c)
	}
	return b.prompt(c, s.Checkout, field, "")
}

// prompt asks an address step, after a problem with the last answer when there was
// one; buttons offer to skip an optional step or keep the answer given before.
func (b *Bot) prompt(c tele.Context, co *Checkout, field, problem string) error {
	st := steps[stepIndex(field)]
	text := st.prompt
	if problem != "" {
		text = "⚠️ " + esc(problem) + "\n\n" + text
	}
	var rows [][]tele.InlineButton
	if cur := co.Address.get(field); cur != "" {
		rows = append(rows, row(button("Keep “"+clip(cur, 30)+"”", cbKeep, field)))
	}
	if st.optional {
		rows = append(rows, row(button("Skip", cbSkip, field)))
	}
	text += "\n<i>(/cancel pauses the checkout; your cart stays)</i>"
	if len(rows) == 0 {
		return c.Send(text)
	}
	return c.Send(text, inline(rows...))
}

// answerStep takes the typed answer to the address step on show.
func (b *Bot) answerStep(c tele.Context, s Session, text string) error {
	field := s.Checkout.Step
	v, problem := steps[stepIndex(field)].validate(text)
	if problem != "" {
		return b.prompt(c, s.Checkout, field, problem)
	}
	if _, err := b.store.update(uid(c), func(s *Session) error {
		if s.Checkout != nil && s.Checkout.Step == field {
			s.Checkout.answer(field, v)
		}
		return nil
	}); err != nil {
		return err
	}
	return b.resume(c)
}

// onSkip leaves an optional step empty; onKeep keeps the answer given before.
func (b *Bot) onSkip(c tele.Context) error { return b.settleStep(c, true) }
func (b *Bot) onKeep(c tele.Context) error { return b.settleStep(c, false) }

func (b *Bot) settleStep(c tele.Context, skip bool) error {
	field := c.Data()
	i := stepIndex(field)
	ok := false
	s, err := b.store.update(uid(c), func(s *Session) error {
		co := s.Checkout
		if co == nil || i < 0 || co.Step != field {
			return nil
		}
		switch {
		case skip && steps[i].optional:
			co.answer(field, "")
			ok = true
		case !skip && co.Address.get(field) != "":
			co.answer(field, co.Address.get(field))
			ok = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.Checkout == nil {
		return b.checkoutOver(c)
	}
	if !ok {
		toast(c, "That question was answered already")
	}
	return b.resume(c)
}

// onEditAddress asks every address step again (each offers to keep its answer).
func (b *Bot) onEditAddress(c tele.Context) error {
	s, err := b.store.update(uid(c), func(s *Session) error {
		if s.Checkout != nil {
			s.Checkout.Done, s.Checkout.Step, s.Checkout.Key = nil, "", ""
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.Checkout == nil {
		return b.checkoutOver(c)
	}
	return b.resume(c)
}

func (b *Bot) onEditShipping(c tele.Context) error { return b.askShipping(c) }

func (b *Bot) onAbort(c tele.Context) error {
	s, err := b.store.update(uid(c), func(s *Session) error {
		s.Checkout = nil
		return nil
	})
	if err != nil {
		return err
	}
	toast(c, "Checkout stopped")
	return b.show(c, fmt.Sprintf("Checkout stopped. Your cart is kept (%s).", plural(s.items(), "item")),
		inline(row(button("🛒 Cart", cbCart, ""), button("🛍 Keep shopping", cbCategories, ""))))
}

// showSummary shows the order to confirm, with a new Idempotency-Key: pressing "Place
// order" twice on it places one order.
func (b *Bot) showSummary(c tele.Context) error {
	s, err := b.store.update(uid(c), func(s *Session) error {
		if s.Checkout != nil {
			s.Checkout.Step, s.Checkout.Key = stepConfirm, uuid.NewString()
		}
		return nil
	})
	if err != nil {
		return err
	}
	co := s.Checkout
	if co == nil || len(s.Cart) == 0 {
		return b.checkoutOver(c)
	}
	var sb strings.Builder
	sb.WriteString("🧾 <b>Please check your order</b>\n")
	for _, l := range s.Cart {
		p, _ := parseMinor(l.Price, 2)
		fmt.Fprintf(&sb, "%d × %s — %s\n", l.Quantity, esc(l.Name), gbp(p*int64(l.Quantity)))
	}
	ship, _ := parseMinor(co.MethodPrice, 2)
	fmt.Fprintf(&sb, "Shipping: %s — %s\n<b>Total: %s</b>\n\n<b>Deliver to</b>\n", esc(co.MethodName), gbp(ship), gbp(s.subtotal()+ship))
	a := co.Address
	for _, line := range []string{a.Name, a.Line1, a.Line2, a.City, a.Postcode} {
		if line != "" {
			sb.WriteString(esc(line) + "\n")
		}
	}
	if a.Phone != "" {
		sb.WriteString("☎ " + esc(a.Phone) + "\n")
	}
	sb.WriteString("\nYou pay in bitcoin once the order is placed.")
	return c.Send(sb.String(), inline(
		row(button("✅ Place order", cbPlace, co.Key[:8])),
		row(button("✏️ Change address", cbEditAddr, ""), button("🚚 Change shipping", cbEditShip, "")),
		row(button("🛒 Change cart", cbCart, ""), button("✖ Stop checkout", cbAbort, ""))))
}

// onPlace places the order of the summary on show.
func (b *Bot) onPlace(c tele.Context) error {
	s, err := b.store.get(uid(c))
	if err != nil {
		return err
	}
	co := s.Checkout
	switch {
	case co == nil || len(s.Cart) == 0:
		return b.checkoutOver(c)
	case co.Step != stepConfirm || co.Key == "" || !strings.HasPrefix(co.Key, c.Data()):
		toast(c, "Your order changed since this summary")
		if err := c.Send("Your cart, shipping or address changed since that summary. Here is your order as it is now:"); err != nil {
			return err
		}
		return b.resume(c)
	}
	body := client.PlaceOrder{ShippingAddress: client.Address{Name: co.Address.Name, Line1: co.Address.Line1,
		City: co.Address.City, Postcode: co.Address.Postcode, CountryCode: "GB"}}
	if co.Address.Line2 != "" {
		body.ShippingAddress.Line2 = &co.Address.Line2
	}
	if co.Address.Phone != "" {
		body.ShippingAddress.Phone = &co.Address.Phone
	}
	if body.ShippingMethodId, err = uuid.Parse(co.MethodID); err != nil {
		return b.askShipping(c)
	}
	for _, l := range s.Cart {
		id, err := uuid.Parse(l.ProductID)
		if err != nil {
			continue
		}
		body.Items = append(body.Items, struct {
			ProductId uuid.UUID `json:"productId"`
			Quantity  int       `json:"quantity"`
		}{id, l.Quantity})
	}
	toast(c, "Placing your order…")
	o, err := b.api.placeOrder(ctx(), uid(c), co.Key, body)
	if err != nil {
		return b.placeFailed(c, err)
	}
	if _, err := b.store.update(uid(c), func(s *Session) error {
		s.Cart, s.Checkout = nil, nil
		if len(o.Payment.Methods) == 0 {
			s.addPending(o.Id.String())
		}
		return nil
	}); err != nil {
		return err
	}
	if cb := c.Callback(); cb != nil && cb.Message != nil {
		if err := c.Edit(fmt.Sprintf("🧾 Placed as order <b>%s</b>.", esc(o.Number))); err != nil {
			b.log.Debug("telegram: could not close the summary", "err", b.redact(err))
		}
	}
	if err := c.Send(fmt.Sprintf("🎉 Thank you! Order <b>%s</b> is placed: %s, total <b>%s</b>.", esc(o.Number),
		plural(lineUnits(o), "item"), money(o.Total)), mainMenu()); err != nil {
		return err
	}
	return b.sendPayment(c.Recipient(), uid(c), o)
}

func lineUnits(o *client.Order) int {
	n := 0
	for _, l := range o.Items {
		n += l.Quantity
	}
	return n
}

// placeFailed tells the customer why OrderDesk refused the order and takes them back
// to what needs changing: a 422's field to its step, a 409 (stock) to the cart.
func (b *Bot) placeFailed(c tele.Context, err error) error {
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status >= 500 || ae.Status == http.StatusTooManyRequests {
		// The key is kept: pressing "Place order" again replays the order if it was placed.
		return b.sorry(c, "place order", err, inline(row(button("✅ Try again", cbPlace, b.keyPrefix(c)))))
	}
	if ae.Status == http.StatusConflict {
		s, uerr := b.store.update(uid(c), func(s *Session) error { cartChanged(s); return nil })
		if uerr != nil {
			return uerr
		}
		if err := c.Send("⚠️ " + esc(userMessage(err)) + "\nPlease change your cart and check out again."); err != nil {
			return err
		}
		return b.showCart(c, s)
	}
	if ae.Status == http.StatusUnprocessableEntity {
		for _, st := range steps {
			if f, ok := ae.field("shippingAddress." + st.field); ok {
				s, uerr := b.store.update(uid(c), func(s *Session) error {
					if s.Checkout != nil {
						s.Checkout.reopen(st.field)
						s.Checkout.Step = st.field
					}
					return nil
				})
				if uerr != nil {
					return uerr
				}
				if s.Checkout == nil {
					return b.checkoutOver(c)
				}
				return b.prompt(c, s.Checkout, st.field, "The shop could not accept the "+st.label+": "+f.Message)
			}
		}
		if f, ok := ae.field("shippingMethodId"); ok {
			if err := c.Send("⚠️ " + esc(f.Message) + " Please choose another way to ship."); err != nil {
				return err
			}
			return b.askShipping(c)
		}
		if f, ok := ae.field("items"); ok {
			s, uerr := b.store.update(uid(c), func(s *Session) error { cartChanged(s); return nil })
			if uerr != nil {
				return uerr
			}
			if err := c.Send("⚠️ " + esc(f.Message) + " Please change your cart."); err != nil {
				return err
			}
			return b.showCart(c, s)
		}
		if _, ok := ae.field("Idempotency-Key"); ok {
			if err := c.Send("Your order changed since you last tried to place it: please check it once more."); err != nil {
				return err
			}
			return b.showSummary(c)
		}
	}
	if err := b.sorry(c, "place order", err); err != nil {
		return err
	}
	return b.showSummary(c)
}

// keyPrefix is the data of the "Place order" button of the summary on show.
func (b *Bot) keyPrefix(c tele.Context) string {
	s, err := b.store.get(uid(c))
	if err != nil || s.Checkout == nil || len(s.Checkout.Key) < 8 {
		return "-"
	}
	return s.Checkout.Key[:8]
}

// sendPayment sends an order's payment instructions: the amount in bitcoin, the
// address, the Lightning invoice where offered, the expiry, then the QR code of the
// on-chain payment. When the invoice is not made yet, it says so; the details follow
// with the order.payment_updated webhook.
func (b *Bot) sendPayment(to tele.Recipient, userID int64, o *client.Order) error {
	buttons := inline(row(button("📦 Order details", cbOrder, o.Id.String()), button("✖ Cancel order", cbCancel, o.Id.String())))
	if len(o.Payment.Methods) == 0 {
		if _, err := b.store.update(userID, func(s *Session) error { s.addPending(o.Id.String()); return nil }); err != nil {
			return err
		}
		_, err := b.tg.Send(to, fmt.Sprintf("⏳ The payment details of %s are being prepared. I'll send them here in a moment.", esc(o.Number)), buttons)
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "💳 <b>How to pay for %s</b>\n", esc(o.Number))
	var chain *client.PaymentMethod
	for i, m := range o.Payment.Methods {
		switch m.Method {
		case "BTC-CHAIN":
			chain = &o.Payment.Methods[i]
			fmt.Fprintf(&sb, "Send <b>%s</b> (%s at %s per BTC) to this bitcoin address:\n<code>%s</code>\n",
				money(m.Due), money(o.Total), money(m.Rate), esc(m.Destination))
		case "BTC-LN":
			fmt.Fprintf(&sb, "⚡ Or pay <b>%s</b> with Lightning:\n<code>%s</code>\n", money(m.Due), esc(m.Destination))
		default:
			fmt.Fprintf(&sb, "Or pay <b>%s</b> (%s) to:\n<code>%s</code>\n", money(m.Due), esc(m.Method), esc(m.Destination))
		}
	}
	if exp := o.Payment.ExpiresAt; exp != nil {
		fmt.Fprintf(&sb, "⏳ Pay by %s; after that the order is cancelled.\n", until(*exp, b.now()))
	}
	if link := o.Payment.CheckoutLink; link != nil && *link != "" {
		fmt.Fprintf(&sb, "Payment page: %s\n", esc(*link))
	}
	sb.WriteString("I'll tell you here as soon as your payment arrives.")
	if _, err := b.tg.Send(to, sb.String(), buttons, tele.NoPreview); err != nil {
		return err
	}
	if chain == nil {
		return nil
	}
	png, err := b.api.paymentQR(ctx(), userID, o.Id.String())
	if err != nil {
		b.log.Warn("payment QR not sent", "order", o.Number, "err", err)
		return nil
	}
	_, err = b.tg.Send(to, &tele.Photo{File: tele.FromReader(bytes.NewReader(png)),
		Caption: fmt.Sprintf("Scan to pay %s: %s", esc(o.Number), money(chain.Due))})
	return err
}
