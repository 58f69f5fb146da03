package bot

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	tele "gopkg.in/telebot.v3"

	"orderdesk/web/api/client"
)

// ordersPage is how many orders "My orders" shows at once.
const ordersPage = 8

func (b *Bot) onOrders(c tele.Context) error {
	if _, err := b.store.update(uid(c), pauseInput); err != nil {
		return err
	}
	return b.listOrders(c, "")
}

func (b *Bot) onMoreOrders(c tele.Context) error {
	s, err := b.store.get(uid(c))
	if err != nil {
		return err
	}
	if s.Browse.OrderCursor == "" {
		toast(c, "That was the whole list.")
		return nil
	}
	return b.listOrders(c, s.Browse.OrderCursor)
}

func (b *Bot) listOrders(c tele.Context, cursor string) error {
	orders, next, err := b.api.orders(ctx(), uid(c), cursor, ordersPage)
	if err != nil {
		return b.sorry(c, "list orders", err)
	}
	if _, err := b.store.update(uid(c), func(s *Session) error { s.Browse.OrderCursor = next; return nil }); err != nil {
		return err
	}
	if len(orders) == 0 && cursor == "" {
		return b.show(c, "📦 You have no orders yet.", inline(row(button("🛍 Browse the shop", cbCategories, ""))))
	}
	var rows [][]tele.InlineButton
	for _, o := range orders {
		rows = append(rows, row(button(fmt.Sprintf("%s %s · %s · %s", statusIcon(o.Status), o.Number, statusText(o.Status), money(o.Total)),
			cbOrder, o.Id.String())))
	}
	if next != "" {
		rows = append(rows, row(button("Older orders ▸", cbMoreOrders, "")))
	}
	return b.show(c, "📦 <b>Your orders</b>, newest first. Tap one for its details.", inline(rows...))
}

// orderGone answers for an order that cannot be shown.
func (b *Bot) orderGone(c tele.Context, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return c.Send("I can't find that order among yours.", inline(row(button("📦 My orders", cbOrders, ""))))
	}
	return b.sorry(c, "get order", err)
}

func (b *Bot) onOrder(c tele.Context) error {
	o, err := b.api.order(ctx(), uid(c), c.Data())
	if err != nil {
		return b.orderGone(c, err)
	}
	// A new message: the one pressed may be payment instructions or news to keep.
	return c.Send(orderText(o), orderButtons(o), tele.NoPreview)
}

// orderText describes an order: lines, totals, payment, shipment and history.
func orderText(o *client.Order) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s <b>Order %s</b>: %s\nPlaced %s\n\n", statusIcon(o.Status), esc(o.Number), statusText(o.Status),
		o.CreatedAt.In(ukTime).Format("2 Jan 2006 15:04"))
	for _, l := range o.Items {
		fmt.Fprintf(&sb, "%d × %s — %s\n", l.Quantity, esc(l.Name), money(l.Total))
	}
	fmt.Fprintf(&sb, "Shipping (%s) — %s\n<b>Total: %s</b>\n", esc(o.ShippingMethod.Name), money(o.Shipping), money(o.Total))
	fmt.Fprintf(&sb, "\nPayment: %s\n", strings.ReplaceAll(string(o.Payment.Status), "_", " "))
	if n := o.Shipment.TrackingNumber; n != nil && *n != "" {
		fmt.Fprintf(&sb, "Tracking number: <code>%s</code>\n", esc(*n))
		if u := o.Shipment.TrackingUrl; u != nil && *u != "" {
			fmt.Fprintf(&sb, "Track it: %s\n", esc(*u))
		}
	}
	var hist []string
	for _, h := range o.History {
		hist = append(hist, statusText(h.Status)+" "+h.At.In(ukTime).Format("2 Jan 15:04"))
	}
	if len(hist) > 0 {
		sb.WriteString("\nHistory: " + strings.Join(hist, " → "))
	}
	return sb.String()
}

// cancellable says whether the customer may still cancel (DESIGN: until picked).
func cancellable(s client.OrderStatus) bool {
	return s == "pending_payment" || s == "processing" || s == "on_hold"
}

// reviewable says whether the order's products may be reviewed (once shipped).
func reviewable(s client.OrderStatus) bool { return s == "shipped" || s == "delivered" }

func orderButtons(o *client.Order) *tele.ReplyMarkup {
	id := o.Id.String()
	var rows [][]tele.InlineButton
	if o.Status == "pending_payment" {
		rows = append(rows, row(button("💳 Payment details", cbPay, id)))
	}
	if u := o.Shipment.TrackingUrl; u != nil && strings.HasPrefix(*u, "https://") {
		rows = append(rows, row(tele.InlineButton{Text: "🔎 Track the parcel", URL: *u}))
	}
	if reviewable(o.Status) {
		rows = append(rows, reviewRows(o)...)
	}
	help := row(button("💬 Help with this order", cbHelp, id))
	if cancellable(o.Status) {
		help = append(help, button("✖ Cancel order", cbCancel, id))
	}
	rows = append(rows, help, row(button("◂ My orders", cbOrders, "")))
	return inline(rows...)
}

// reviewRows are a "Review" button per product of an order.
func reviewRows(o *client.Order) [][]tele.InlineButton {
	var rows [][]tele.InlineButton
	seen := map[string]bool{}
	for _, l := range o.Items {
		if id := l.ProductId.String(); !seen[id] {
			seen[id] = true
			rows = append(rows, row(button("⭐ Review "+clip(l.Name, 30), cbReview, id)))
		}
	}
	return rows
}

// onPayAgain sends an unpaid order's payment instructions again.
func (b *Bot) onPayAgain(c tele.Context) error {
	o, err := b.api.order(ctx(), uid(c), c.Data())
	if err != nil {
		return b.orderGone(c, err)
	}
	if o.Status != "pending_payment" {
		return c.Send(fmt.Sprintf("%s is %s: there is nothing to pay.", esc(o.Number), statusText(o.Status)))
	}
	return b.sendPayment(c.Recipient(), uid(c), o)
}

func (b *Bot) onCancelOrder(c tele.Context) error {
	o, err := b.api.order(ctx(), uid(c), c.Data())
	if err != nil {
		return b.orderGone(c, err)
	}
	if !cancellable(o.Status) {
		return c.Send(fmt.Sprintf("%s is %s: it can no longer be cancelled. Tap 💬 Help with this order to ask the shop.", esc(o.Number), statusText(o.Status)),
			inline(row(button("💬 Help with this order", cbHelp, o.Id.String()))))
	}
	text := fmt.Sprintf("Cancel order <b>%s</b> (%s)?", esc(o.Number), money(o.Total))
	if o.Status != "pending_payment" {
		text += "\nIt is paid: the shop will refund you."
	}
	return c.Send(text, inline(row(button("Yes, cancel it", cbCancelYes, o.Id.String()), button("No, keep it", cbOrder, o.Id.String()))))
}

func (b *Bot) onCancelOrderYes(c tele.Context) error {
	// Noted first: OrderDesk's order.status_changed may arrive before the answer.
	if _, err := b.store.update(uid(c), func(s *Session) error { s.addCancelled(c.Data()); return nil }); err != nil {
		return err
	}
	o, err := b.api.cancelOrder(ctx(), uid(c), c.Data())
	if err != nil {
		if _, uerr := b.store.update(uid(c), func(s *Session) error { s.removeCancelled(c.Data()); return nil }); uerr != nil {
			return uerr
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			return c.Send("⚠️ "+esc(userMessage(err))+" Tap 💬 Help with this order to ask the shop.",
				inline(row(button("💬 Help with this order", cbHelp, c.Data()))))
		}
		return b.orderGone(c, err)
	}
	toast(c, "Cancelled")
	text := fmt.Sprintf("✖️ Order <b>%s</b> is cancelled.", esc(o.Number))
	for _, h := range o.History {
		if h.Status == "processing" {
			text += " It was paid: the shop will refund you and tell you here."
			break
		}
	}
	return b.show(c, text, inline(row(button("📦 My orders", cbOrders, ""), button("🛍 Shop", cbCategories, ""))))
}

// onHelpOrder asks for a message to the shop about an order.
func (b *Bot) onHelpOrder(c tele.Context) error {
	o, err := b.api.order(ctx(), uid(c), c.Data())
	if err != nil {
		return b.orderGone(c, err)
	}
	if _, err := b.store.update(uid(c), func(s *Session) error {
		pauseInput(s)
		s.Awaiting = &Awaiting{Kind: awaitHelp, OrderID: o.Id.String(), OrderNumber: o.Number}
		return nil
	}); err != nil {
		return err
	}
	return c.Send(fmt.Sprintf("💬 Write your message to the shop about <b>%s</b>, and I'll pass it on. Their reply will come here.\n<i>(/cancel to stop)</i>", esc(o.Number)))
}

// messageMax is the longest message or review the API takes.
const (
	messageMax = 4000
	reviewMax  = 2000
)

func (b *Bot) sendHelpMessage(c tele.Context, w *Awaiting, text string) error {
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return c.Send("That message is empty: please type what you'd like to ask the shop (or /cancel).")
	case n > messageMax:
		return c.Send(fmt.Sprintf("That message is too long (%d characters): the shop takes at most %d. Please shorten it (or /cancel).", n, messageMax))
	}
	if err := b.api.postMessage(ctx(), uid(c), w.OrderID, text); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
			return c.Send("⚠️ " + esc(userMessage(err)) + " Please type it again (or /cancel).")
		}
		return b.sorry(c, "send message", err)
	}
	if _, err := b.store.update(uid(c), func(s *Session) error { s.Awaiting = nil; return nil }); err != nil {
		return err
	}
	return c.Send(fmt.Sprintf("📨 Sent to the shop about %s. Their reply will come here.", esc(w.OrderNumber)), mainMenu())
}

// onReview asks for a product's stars.
func (b *Bot) onReview(c tele.Context) error {
	name := "this product"
	if p, err := b.api.product(ctx(), c.Data()); err == nil {
		name = p.Name
	}
	var stars []tele.InlineButton
	for n := 1; n <= 5; n++ {
		stars = append(stars, button(strings.Repeat("⭐", n), cbRate, c.Data()+":"+strconv.Itoa(n)))
	}
	return c.Send("How many stars do you give <b>"+esc(name)+"</b>?", inline(stars[:3], stars[3:]))
}

// onRate takes the stars and asks for the words.
func (b *Bot) onRate(c tele.Context) error {
	id, n, _ := strings.Cut(c.Data(), ":")
	stars, err := strconv.Atoi(n)
	if err != nil || stars < 1 || stars > 5 {
		toast(c, "Choose from one to five stars")
		return nil
	}
	name := "this product"
	if p, err := b.api.product(ctx(), id); err == nil {
		name = p.Name
	}
	if _, err := b.store.update(uid(c), func(s *Session) error {
		pauseInput(s)
		s.Awaiting = &Awaiting{Kind: awaitReview, ProductID: id, ProductName: name, Rating: stars}
		return nil
	}); err != nil {
		return err
	}
	toast(c, strings.Repeat("⭐", stars))
	return c.Send(fmt.Sprintf("%s for <b>%s</b>. Now write a few words about it (up to %d characters).\n<i>(/cancel to stop)</i>",
		strings.Repeat("⭐", stars), esc(name), reviewMax))
}

func (b *Bot) sendReview(c tele.Context, w *Awaiting, text string) error {
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return c.Send("That review is empty: please write a few words (or /cancel).")
	case n > reviewMax:
		return c.Send(fmt.Sprintf("That review is too long (%d characters): at most %d, please (or /cancel).", n, reviewMax))
	}
	rev, created, err := b.api.review(ctx(), uid(c), w.ProductID, w.Rating, text)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound) {
			if _, uerr := b.store.update(uid(c), func(s *Session) error { s.Awaiting = nil; return nil }); uerr != nil {
				return uerr
			}
			return c.Send("⚠️ "+esc(userMessage(err)), mainMenu())
		}
		if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
			return c.Send("⚠️ " + esc(userMessage(err)) + " Please write it again (or /cancel).")
		}
		return b.sorry(c, "post review", err)
	}
	if _, err := b.store.update(uid(c), func(s *Session) error { s.Awaiting = nil; return nil }); err != nil {
		return err
	}
	msg := "⭐ Thank you for your review of <b>" + esc(w.ProductName) + "</b>!"
	if !created {
		msg = "⭐ Your review of <b>" + esc(w.ProductName) + "</b> is updated."
	}
	if rev.Status == "pending" {
		msg += " It will appear in the shop once the shop has checked it."
	}
	return c.Send(msg, mainMenu())
}
