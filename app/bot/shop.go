package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	tele "gopkg.in/telebot.v3"

	"orderdesk/web/api/client"
)

// productsPage is how many products a list shows at once.
const productsPage = 8

// onShop shows the categories.
func (b *Bot) onShop(c tele.Context) error {
	if _, err := b.store.update(uid(c), pauseInput); err != nil {
		return err
	}
	return b.showCategories(c)
}

func (b *Bot) showCategories(c tele.Context) error {
	cats, err := b.api.categories(ctx())
	if err != nil {
		return b.sorry(c, "list categories", err)
	}
	if len(cats) == 0 {
		return b.listProducts(c, "all", "", "")
	}
	depth := map[string]int{}
	var rows [][]tele.InlineButton
	for _, cat := range cats {
		d := 0
		if cat.ParentId != nil {
			d = depth[cat.ParentId.String()] + 1
		}
		depth[cat.Id.String()] = d
		rows = append(rows, row(button(strings.Repeat("↳ ", d)+cat.Name, cbCategory, cat.Id.String())))
	}
	rows = append(rows, row(button("All products", cbCategory, "all")))
	return b.show(c, "🛍 <b>What are you looking for?</b>\nChoose a category, or type a product's name to search.", inline(rows...))
}

func (b *Bot) onCategory(c tele.Context) error {
	return b.listProducts(c, c.Data(), "", "")
}

// onMoreProducts shows the next page of the list on show (the session has its cursor).
func (b *Bot) onMoreProducts(c tele.Context) error {
	s, err := b.store.get(uid(c))
	if err != nil {
		return err
	}
	if s.Browse.ProductCursor == "" {
		toast(c, "That was the whole list.")
		return nil
	}
	cat := s.Browse.Category
	if cat == "" {
		cat = "all"
	}
	return b.listProducts(c, cat, s.Browse.Query, s.Browse.ProductCursor)
}

// search lists the products whose name contains q.
func (b *Bot) search(c tele.Context, q string) error {
	switch n := len([]rune(q)); {
	case n < 2:
		return c.Send("Type at least two letters of a product's name to search, or tap "+menuShop+" to browse.", mainMenu())
	case n > 100:
		return c.Send("That is too long for a product name. Type a word or two of it, or tap "+menuShop+" to browse.", mainMenu())
	}
	return b.listProducts(c, "all", q, "")
}

// listProducts shows a page of a category's products ("all" for every category), or
// of those matching q.
func (b *Bot) listProducts(c tele.Context, category, q, cursor string) error {
	catID := category
	if category == "all" {
		catID = ""
	}
	products, next, err := b.api.products(ctx(), catID, q, cursor, productsPage)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
			if _, ok := ae.field("cursor"); ok {
				return b.show(c, "This list has changed: please open it again.", inline(row(button("◂ Categories", cbCategories, ""))))
			}
		}
		return b.sorry(c, "list products", err)
	}
	if _, err := b.store.update(uid(c), func(s *Session) error {
		s.Browse.Category, s.Browse.Query, s.Browse.ProductCursor = catID, q, next
		return nil
	}); err != nil {
		return err
	}
	if len(products) == 0 {
		switch {
		case q != "":
			return c.Send("I found no product matching “"+esc(q)+"”. Try another word, or browse:", inline(row(button("🛍 Browse the shop", cbCategories, ""))))
		case cursor != "":
			return b.show(c, "That was the whole list.", inline(row(button("◂ Categories", cbCategories, ""))))
		}
		return b.show(c, "Nothing is on sale here at the moment.", inline(row(button("◂ Categories", cbCategories, ""))))
	}
	title := "🛍 <b>Products</b>"
	if q != "" {
		title = "🔎 <b>Products matching “" + esc(q) + "”</b>"
	}
	var rows [][]tele.InlineButton
	for _, p := range products {
		label := p.Name + " — " + money(p.Price)
		if p.AvailableQuantity != nil && *p.AvailableQuantity == 0 {
			label += " (sold out)"
		}
		rows = append(rows, row(button(label, cbProduct, p.Id.String())))
	}
	nav := row(button("◂ Categories", cbCategories, ""))
	if next != "" {
		nav = append(nav, button("More ▸", cbMore, ""))
	}
	rows = append(rows, nav)
	text := title + "\nTap a product to see it."
	if q != "" {
		// A search answers typed text: a new message, not an edit of an old one.
		return c.Send(text, inline(rows...))
	}
	return b.show(c, text, inline(rows...))
}

// productCaption describes a product: name, price, stock, rating, description.
func productCaption(p *client.Product) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "<b>%s</b>\n%s", esc(p.Name), money(p.Price))
	switch q := p.AvailableQuantity; {
	case q == nil:
	case *q == 0:
		sb.WriteString(" · sold out")
	case *q <= 10:
		fmt.Fprintf(&sb, " · only %d left", *q)
	default:
		sb.WriteString(" · in stock")
	}
	if p.Rating.Count > 0 && p.Rating.Average != nil {
		fmt.Fprintf(&sb, " · ★ %s (%s)", *p.Rating.Average, plural(p.Rating.Count, "review"))
	}
	if d := strings.TrimSpace(p.Description); d != "" {
		sb.WriteString("\n\n" + esc(clip(d, 700)))
	}
	return sb.String()
}

func (b *Bot) onProduct(c tele.Context) error {
	p, err := b.api.product(ctx(), c.Data())
	if err != nil {
		return b.productGone(c, err)
	}
	rows := [][]tele.InlineButton{}
	if p.AvailableQuantity == nil || *p.AvailableQuantity > 0 {
		rows = append(rows, row(button("➕ Add to cart", cbAdd, p.Id.String())))
	}
	if p.Rating.Count > 0 {
		rows = append(rows, row(button("⭐ Reviews ("+strconv.Itoa(p.Rating.Count)+")", cbReviews, p.Id.String())))
	}
	rows = append(rows, row(button("🛒 Cart", cbCart, ""), button("◂ Categories", cbCategories, "")))
	caption := productCaption(p)
	if len(p.Photos) > 0 {
		err := b.sendPhoto(c.Recipient(), p.Photos[0].Url, caption, inline(rows...))
		if err == nil {
			return nil
		}
		b.log.Warn("product photo not sent; sending text", "product", p.Id, "err", b.redact(err))
	}
	return c.Send(caption, inline(rows...))
}

// sendPhoto sends a photo by URL: downloaded from OrderDesk and uploaded the first
// time, by Telegram's file id after that.
func (b *Bot) sendPhoto(to tele.Recipient, url, caption string, markup *tele.ReplyMarkup) error {
	if id, ok := b.photos.Load(url); ok {
		if _, err := b.tg.Send(to, &tele.Photo{File: tele.File{FileID: id.(string)}, Caption: caption}, markup); err == nil {
			return nil
		}
		b.photos.Delete(url)
	}
	data, err := b.api.photo(ctx(), url)
	if err != nil {
		return err
	}
	ph := &tele.Photo{File: tele.FromReader(bytes.NewReader(data)), Caption: caption}
	m, err := b.tg.Send(to, ph, markup)
	if err != nil {
		return err
	}
	if m.Photo != nil && m.Photo.FileID != "" {
		b.photos.Store(url, m.Photo.FileID)
	}
	return nil
}

// productGone answers for a product that cannot be shown.
func (b *Bot) productGone(c tele.Context, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return c.Send("This product is no longer on sale.", inline(row(button("🛍 Browse the shop", cbCategories, ""))))
	}
	return b.sorry(c, "get product", err)
}

// onAdd puts one more of a product in the cart, within the stock available.
func (b *Bot) onAdd(c tele.Context) error {
	p, err := b.api.product(ctx(), c.Data())
	if err != nil {
		if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			if _, uerr := b.store.update(uid(c), func(s *Session) error { s.setQuantity(c.Data(), 0); return nil }); uerr != nil {
				return uerr
			}
		}
		return b.productGone(c, err)
	}
	id := p.Id.String()
	var problem string
	s, err := b.store.update(uid(c), func(s *Session) error {
		have := 0
		if l := s.line(id); l != nil {
			have = l.Quantity
		}
		switch avail := p.AvailableQuantity; {
		case avail != nil && *avail == 0:
			problem = "Sorry, " + p.Name + " is sold out."
			return nil
		case avail != nil && have+1 > *avail:
			problem = fmt.Sprintf("Only %d of %s are in stock, and your cart has them all.", *avail, p.Name)
			return nil
		case have+1 > maxLineQuantity:
			problem = fmt.Sprintf("An order takes at most %d of one product.", maxLineQuantity)
			return nil
		}
		if l := s.line(id); l != nil {
			l.Quantity++
			l.Name, l.Price = p.Name, p.Price.Amount
		} else {
			s.Cart = append(s.Cart, CartLine{ProductID: id, Name: p.Name, Price: p.Price.Amount, Quantity: 1})
		}
		cartChanged(s)
		return nil
	})
	if err != nil {
		return err
	}
	if problem != "" {
		toast(c, problem)
		return c.Send(esc(problem), inline(row(button("🛒 Cart", cbCart, ""), button("🛍 Keep shopping", cbCategories, ""))))
	}
	if c.Callback() != nil && c.Callback().Unique == cbInc {
		toast(c, "One more "+p.Name)
		return b.showCart(c, s)
	}
	toast(c, "Added to your cart")
	l := s.line(id)
	return c.Send(fmt.Sprintf("✅ Added <b>%s</b> to your cart (%d in it).\nYour cart: %s, %s.", esc(p.Name), l.Quantity,
		plural(s.items(), "item"), gbp(s.subtotal())),
		inline(row(button("🛒 Cart & checkout", cbCart, "")), row(button("🛍 Keep shopping", cbCategories, ""))))
}

// cartChanged makes a summary on show out of date: its "Place order" no longer
// places this cart.
func cartChanged(s *Session) {
	if s.Checkout != nil && s.Checkout.Step == stepConfirm {
		s.Checkout.Step, s.Checkout.Key = "", ""
	}
}

func (b *Bot) onDec(c tele.Context) error {
	s, err := b.store.update(uid(c), func(s *Session) error {
		if l := s.line(c.Data()); l != nil {
			s.setQuantity(l.ProductID, l.Quantity-1)
			cartChanged(s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return b.showCart(c, s)
}

func (b *Bot) onRemove(c tele.Context) error {
	s, err := b.store.update(uid(c), func(s *Session) error {
		s.setQuantity(c.Data(), 0)
		cartChanged(s)
		return nil
	})
	if err != nil {
		return err
	}
	toast(c, "Removed")
	return b.showCart(c, s)
}

func (b *Bot) onEmpty(c tele.Context) error {
	s, err := b.store.update(uid(c), func(s *Session) error {
		s.Cart, s.Checkout = nil, nil
		return nil
	})
	if err != nil {
		return err
	}
	toast(c, "Your cart is empty now")
	return b.showCart(c, s)
}

func (b *Bot) onCart(c tele.Context) error {
	s, err := b.store.update(uid(c), pauseInput)
	if err != nil {
		return err
	}
	return b.showCart(c, s)
}

// showCart shows the cart with its buttons.
func (b *Bot) showCart(c tele.Context, s Session) error {
	if len(s.Cart) == 0 {
		return b.show(c, "🛒 Your cart is empty. Tap a product's ➕ Add to cart to fill it.", inline(row(button("🛍 Browse the shop", cbCategories, ""))))
	}
	var sb strings.Builder
	sb.WriteString("🛒 <b>Your cart</b>\n")
	var rows [][]tele.InlineButton
	for _, l := range s.Cart {
		p, _ := parseMinor(l.Price, 2)
		fmt.Fprintf(&sb, "%d × %s — %s\n", l.Quantity, esc(l.Name), gbp(p*int64(l.Quantity)))
		rows = append(rows, row(button("➖", cbDec, l.ProductID), button("🗑 "+clip(l.Name, 24), cbRemove, l.ProductID), button("➕", cbInc, l.ProductID)))
	}
	fmt.Fprintf(&sb, "\nSubtotal: <b>%s</b> (shipping is chosen at checkout)", gbp(s.subtotal()))
	rows = append(rows, row(button("✅ Checkout", cbCheckout, "")), row(button("🗑 Empty cart", cbEmpty, ""), button("🛍 Keep shopping", cbCategories, "")))
	return b.show(c, sb.String(), inline(rows...))
}

// ctx is the context of one call to OrderDesk from a handler.
func ctx() context.Context { return context.Background() }

// reviewsShown is how many reviews a product's "Reviews" shows.
const reviewsShown = 5

// onReviews shows a product's newest approved reviews, with the shop's replies.
func (b *Bot) onReviews(c tele.Context) error {
	p, err := b.api.product(ctx(), c.Data())
	if err != nil {
		return b.productGone(c, err)
	}
	revs, err := b.api.reviews(ctx(), c.Data(), reviewsShown)
	if err != nil {
		return b.sorry(c, "list reviews", err)
	}
	back := inline(row(button("◂ "+clip(p.Name, 30), cbProduct, p.Id.String())))
	if len(revs) == 0 {
		return c.Send("Nobody has reviewed <b>"+esc(p.Name)+"</b> yet.", back)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "⭐ <b>Reviews of %s</b>", esc(p.Name))
	if avg := p.Rating.Average; avg != nil {
		fmt.Fprintf(&sb, ": %s from %s", *avg, plural(p.Rating.Count, "review"))
	}
	for _, r := range revs {
		fmt.Fprintf(&sb, "\n\n%s %s\n%s", strings.Repeat("★", r.Rating)+strings.Repeat("☆", 5-r.Rating),
			r.CreatedAt.In(ukTime).Format("2 Jan 2006"), esc(clip(r.Body, 500)))
		if r.Reply != nil && r.Reply.Body != "" {
			fmt.Fprintf(&sb, "\n<i>The shop: %s</i>", esc(clip(r.Reply.Body, 300)))
		}
	}
	return c.Send(sb.String(), back)
}
