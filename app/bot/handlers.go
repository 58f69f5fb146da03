package bot

import (
	"errors"
	"strings"

	tele "gopkg.in/telebot.v3"
)

// The main menu, a keyboard under the message box.
const (
	menuShop   = "🛍 Shop"
	menuCart   = "🛒 Cart"
	menuOrders = "📦 My orders"
	menuHelp   = "❓ Help"
)

// The callback endpoints of the inline buttons ("\f<unique>|<data>"; Telegram allows
// 64 bytes of data, so the data is an id and the rest stays in the session).
const (
	cbCategories = "cats"      // the category list
	cbCategory   = "cat"       // data: category id, or "all"
	cbMore       = "more"      // the next page of the product list on show
	cbProduct    = "prod"      // data: product id
	cbAdd        = "add"       // data: product id
	cbInc        = "inc"       // data: product id
	cbDec        = "dec"       // data: product id
	cbRemove     = "rm"        // data: product id
	cbCart       = "cart"      //
	cbEmpty      = "empty"     // empty the cart
	cbCheckout   = "co"        // start or resume the checkout
	cbShip       = "ship"      // data: shipping method id
	cbSkip       = "skip"      // data: address step
	cbKeep       = "keep"      // data: address step
	cbEditAddr   = "addr"      // enter the address again
	cbEditShip   = "reship"    // choose the shipping method again
	cbPlace      = "place"     // data: the first 8 characters of the checkout's key
	cbAbort      = "abort"     // stop the checkout
	cbOrders     = "orders"    // the first page of the orders
	cbMoreOrders = "omore"     // the next page
	cbOrder      = "order"     // data: order id
	cbPay        = "pay"       // data: order id: the payment instructions again
	cbCancel     = "cancel"    // data: order id: asks to confirm
	cbCancelYes  = "cancelyes" // data: order id
	cbHelp       = "help"      // data: order id: a message to the shop
	cbReview     = "review"    // data: product id
	cbRate       = "rate"      // data: product id:stars
	cbReviews    = "reviews"   // data: product id: its newest reviews
)

// routes registers the handlers.
func (b *Bot) routes() {
	t := b.tg
	t.Use(b.privateOnly, b.answerCallbacks)
	t.Handle("/start", b.onStart)
	t.Handle("/help", b.onHelp)
	t.Handle(menuHelp, b.onHelp)
	t.Handle("/shop", b.onShop)
	t.Handle(menuShop, b.onShop)
	t.Handle("/cart", b.onCart)
	t.Handle(menuCart, b.onCart)
	t.Handle("/orders", b.onOrders)
	t.Handle(menuOrders, b.onOrders)
	t.Handle("/cancel", b.onCancelInput)
	t.Handle(tele.OnText, b.onText)
	t.Handle(tele.OnEdited, b.onEdited)
	for _, end := range []string{tele.OnMedia, tele.OnContact, tele.OnLocation, tele.OnVenue, tele.OnDice, tele.OnGame, tele.OnPoll} {
		t.Handle(end, b.onUnsupported)
	}
	cb := func(unique string, h tele.HandlerFunc) { t.Handle("\f"+unique, h) }
	cb(cbCategories, b.onShop)
	cb(cbCategory, b.onCategory)
	cb(cbMore, b.onMoreProducts)
	cb(cbProduct, b.onProduct)
	cb(cbAdd, b.onAdd)
	cb(cbInc, b.onAdd)
	cb(cbDec, b.onDec)
	cb(cbRemove, b.onRemove)
	cb(cbCart, b.onCart)
	cb(cbEmpty, b.onEmpty)
	cb(cbCheckout, b.onCheckout)
	cb(cbShip, b.onShip)
	cb(cbSkip, b.onSkip)
	cb(cbKeep, b.onKeep)
	cb(cbEditAddr, b.onEditAddress)
	cb(cbEditShip, b.onEditShipping)
	cb(cbPlace, b.onPlace)
	cb(cbAbort, b.onAbort)
	cb(cbOrders, b.onOrders)
	cb(cbMoreOrders, b.onMoreOrders)
	cb(cbOrder, b.onOrder)
	cb(cbPay, b.onPayAgain)
	cb(cbCancel, b.onCancelOrder)
	cb(cbCancelYes, b.onCancelOrderYes)
	cb(cbHelp, b.onHelpOrder)
	cb(cbReview, b.onReview)
	cb(cbRate, b.onRate)
	cb(cbReviews, b.onReviews)
	t.Handle(tele.OnCallback, b.onStaleButton)
}

// privateOnly keeps the bot to private chats: a customer's cart and orders are theirs.
func (b *Bot) privateOnly(next tele.HandlerFunc) tele.HandlerFunc {
	return func(c tele.Context) error {
		if c.Sender() == nil {
			return nil
		}
		if ch := c.Chat(); ch != nil && ch.Type != tele.ChatPrivate {
			if c.Callback() != nil {
				return c.Respond(&tele.CallbackResponse{Text: "Open a private chat with me to shop.", ShowAlert: true})
			}
			return c.Send("I take orders in private chats only: open a chat with me to shop.")
		}
		return next(c)
	}
}

// answerCallbacks answers every button press (Telegram shows a spinner until it is
// answered) unless the handler did, with a toast of its own.
func (b *Bot) answerCallbacks(next tele.HandlerFunc) tele.HandlerFunc {
	return func(c tele.Context) error {
		err := next(c)
		if c.Callback() != nil && c.Get("answered") == nil {
			if rerr := c.Respond(); rerr != nil && err == nil {
				b.log.Warn("telegram: answerCallbackQuery failed", "err", b.redact(rerr))
			}
		}
		return err
	}
}

// toast answers a button press with a short notice.
func toast(c tele.Context, text string) {
	if c.Callback() == nil {
		return
	}
	c.Set("answered", true)
	_ = c.Respond(&tele.CallbackResponse{Text: text})
}

func uid(c tele.Context) int64 { return c.Sender().ID }

// redact is an error's text without the bot token (telebot's network errors carry the
// request URL, which holds it).
func (b *Bot) redact(err error) string {
	return strings.ReplaceAll(err.Error(), b.cfg.TelegramToken, "<token>")
}

// mainMenu is the keyboard under the message box.
func mainMenu() *tele.ReplyMarkup {
	m := &tele.ReplyMarkup{ResizeKeyboard: true}
	m.Reply(m.Row(m.Text(menuShop), m.Text(menuCart)), m.Row(m.Text(menuOrders), m.Text(menuHelp)))
	return m
}

// button is an inline button of an endpoint. Its callback data is written here in
// telebot's format ("\f<unique>|<data>") rather than left to telebot, which rewrites
// the buttons of a markup in place when it sends it: a markup sent twice (a photo
// that falls back to text) would be spoilt.
func button(text, unique, data string) tele.InlineButton {
	if data == "" {
		return tele.InlineButton{Text: text, Data: "\f" + unique}
	}
	return tele.InlineButton{Text: text, Data: "\f" + unique + "|" + data}
}

// inline is an inline keyboard of rows of buttons.
func inline(rows ...[]tele.InlineButton) *tele.ReplyMarkup {
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

func row(buttons ...tele.InlineButton) []tele.InlineButton { return buttons }

// show puts text on screen: in place of the message whose button was pressed when it
// is a text message, otherwise as a new message.
func (b *Bot) show(c tele.Context, text string, markup *tele.ReplyMarkup) error {
	if cb := c.Callback(); cb != nil && cb.Message != nil && cb.Message.Photo == nil && cb.Message.Text != "" {
		err := c.Edit(text, markup, tele.NoPreview)
		if err == nil || errors.Is(err, tele.ErrSameMessageContent) || errors.Is(err, tele.ErrMessageNotModified) {
			return nil
		}
		b.log.Debug("telegram: edit failed; sending instead", "err", b.redact(err))
	}
	return c.Send(text, markup, tele.NoPreview)
}

// sorry tells the customer what went wrong with OrderDesk, in words, and logs what
// they cannot act on.
func (b *Bot) sorry(c tele.Context, doing string, err error, markup ...*tele.ReplyMarkup) error {
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status == 401 || ae.Status >= 500 {
		b.log.Error("orderdesk: "+doing+" failed", "user", uid(c), "err", err)
	}
	msg := "⚠️ " + esc(userMessage(err))
	if len(markup) > 0 {
		return c.Send(msg, markup[0])
	}
	return c.Send(msg)
}

func (b *Bot) onStart(c tele.Context) error {
	s, err := b.store.update(uid(c), pauseInput)
	if err != nil {
		return err
	}
	name := c.Sender().FirstName
	greeting := "Welcome!"
	if name != "" {
		greeting = "Welcome, " + esc(name) + "!"
	}
	text := "👋 " + greeting + " I'm the shop's bot.\n\n" +
		"Browse the products, put what you like in your cart, and pay in bitcoin. " +
		"I'll keep you posted here: payment, shipping and tracking, and the shop's replies."
	if n := s.items(); n > 0 {
		text += "\n\nYour cart still has " + plural(n, "item") + " in it: tap " + menuCart + "."
	}
	if err := c.Send(text, mainMenu()); err != nil {
		return err
	}
	return b.showCategories(c)
}

func (b *Bot) onHelp(c tele.Context) error {
	return c.Send("❓ <b>How it works</b>\n"+
		"1. "+menuShop+" (/shop): browse the categories, open a product, tap ➕ Add to cart. You can also type a product's name to search.\n"+
		"2. "+menuCart+" (/cart): change quantities, then ✅ Checkout: choose the shipping, type the address step by step, check and place the order.\n"+
		"3. Pay the bitcoin amount shown (scan the QR code or copy the address). I'll tell you when the payment arrives and when the parcel ships, with its tracking number.\n"+
		"4. "+menuOrders+" (/orders): the status of each order, its payment details, cancelling before it is packed, 💬 Help with this order, and ⭐ reviews once it has shipped.\n\n"+
		"/cancel stops whatever I asked you to type; your cart stays.", mainMenu())
}

// pauseInput stops waiting for typed input: a help message or review is dropped, a
// checkout is paused (its answers are kept for when it resumes).
func pauseInput(s *Session) error {
	s.Awaiting = nil
	if s.Checkout != nil {
		s.Checkout.Step, s.Checkout.Key = "", ""
	}
	return nil
}

func (b *Bot) onCancelInput(c tele.Context) error {
	before, err := b.store.get(uid(c))
	if err != nil {
		return err
	}
	if _, err := b.store.update(uid(c), pauseInput); err != nil {
		return err
	}
	switch {
	case before.Awaiting != nil && before.Awaiting.Kind == awaitHelp:
		return c.Send("OK, no message sent.", mainMenu())
	case before.Awaiting != nil:
		return c.Send("OK, no review sent.", mainMenu())
	case before.Checkout != nil && before.Checkout.Step != "":
		return c.Send("OK, checkout paused. Your cart and what you typed are kept: tap "+menuCart+" and ✅ Checkout to carry on.", mainMenu())
	}
	return c.Send("There is nothing to cancel. Tap "+menuShop+" to browse, or "+menuHelp+".", mainMenu())
}

// onText routes typed text: to the question the bot asked, else to a product search.
func (b *Bot) onText(c tele.Context) error {
	text := strings.TrimSpace(c.Text())
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		return c.Send("I don't know the command "+esc(cmd)+". Try /shop, /cart, /orders or /help.", mainMenu())
	}
	s, err := b.store.get(uid(c))
	if err != nil {
		return err
	}
	switch {
	case s.Awaiting != nil && s.Awaiting.Kind == awaitHelp:
		return b.sendHelpMessage(c, s.Awaiting, text)
	case s.Awaiting != nil && s.Awaiting.Kind == awaitReview:
		return b.sendReview(c, s.Awaiting, text)
	case s.Checkout != nil && stepIndex(s.Checkout.Step) >= 0:
		return b.answerStep(c, s, text)
	case s.Checkout != nil && s.Checkout.Step == stepMethod:
		if err := c.Send("Please choose how to ship with the buttons (or /cancel to pause the checkout)."); err != nil {
			return err
		}
		return b.askShipping(c)
	case s.Checkout != nil && s.Checkout.Step == stepConfirm:
		if err := c.Send("Please check your order and tap ✅ Place order, or change something with the buttons (or /cancel)."); err != nil {
			return err
		}
		return b.showSummary(c)
	}
	return b.search(c, text)
}

func (b *Bot) onEdited(c tele.Context) error {
	return c.Send("I read new messages only, not edits: please send it again as a new message.")
}

// onUnsupported answers a photo, sticker, voice message, location and the like.
func (b *Bot) onUnsupported(c tele.Context) error {
	s, err := b.store.get(uid(c))
	if err != nil {
		return err
	}
	msg := "I can only read text and button presses."
	switch {
	case s.Awaiting != nil && s.Awaiting.Kind == awaitHelp:
		msg += " Please type your message to the shop (or /cancel)."
	case s.Awaiting != nil:
		msg += " Please type your review (or /cancel)."
	case s.Checkout != nil && stepIndex(s.Checkout.Step) >= 0:
		msg += " " + steps[stepIndex(s.Checkout.Step)].prompt
	default:
		msg += " Tap " + menuShop + " to browse, or type a product's name to search."
	}
	return c.Send(msg, mainMenu())
}

// onStaleButton answers a button this bot no longer knows (from an older version).
func (b *Bot) onStaleButton(c tele.Context) error {
	c.Set("answered", true)
	return c.Respond(&tele.CallbackResponse{Text: "This button is out of date: please use the menu below.", ShowAlert: true})
}
