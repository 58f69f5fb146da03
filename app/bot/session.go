package bot

import (
	"slices"
)

// Session is what the bot keeps for one customer between messages, on disk: the
// cart, the checkout in progress and what the bot is waiting for them to type.
type Session struct {
	UserID   int64      `json:"userId"`
	Cart     []CartLine `json:"cart"`
	Checkout *Checkout  `json:"checkout,omitempty"`
	Awaiting *Awaiting  `json:"awaiting,omitempty"`
	Browse   Browse     `json:"browse"`
	// Pending lists the orders whose payment details were not ready when they were
	// placed: they are sent when OrderDesk says the invoice exists.
	Pending []string `json:"pendingPayments,omitempty"`
	// Cancelled lists the orders the customer cancelled here, whose order.status_changed
	// needs no message of its own.
	Cancelled []string `json:"cancelled,omitempty"`
}

// CartLine is a product in the cart with the name and price it had when added (the
// order takes the price of the moment it is placed).
type CartLine struct {
	ProductID string `json:"productId"`
	Name      string `json:"name"`
	Price     string `json:"price"` // GBP, like "4.50"
	Quantity  int    `json:"quantity"`
}

// Checkout is an order being put together: the shipping method and the address,
// asked for one step at a time.
type Checkout struct {
	MethodID    string  `json:"methodId,omitempty"`
	MethodName  string  `json:"methodName,omitempty"`
	MethodPrice string  `json:"methodPrice,omitempty"`
	Address     Address `json:"address"`
	// Step is the address field the bot is asking for, "confirm" while the summary
	// waits for the customer's word, or "" while the checkout is paused.
	Step string `json:"step,omitempty"`
	// Done lists the steps answered (optional ones may be answered by skipping).
	Done []string `json:"done,omitempty"`
	// Key is the Idempotency-Key of the summary on show: pressing "Place order" twice
	// places one order.
	Key string `json:"key,omitempty"`
}

// Address is the shipping address as the customer typed it.
type Address struct {
	Name     string `json:"name,omitempty"`
	Line1    string `json:"line1,omitempty"`
	Line2    string `json:"line2,omitempty"`
	City     string `json:"city,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

// Awaiting is free text the bot asked for outside the checkout: a message to the
// shop about an order, or the words of a review.
type Awaiting struct {
	Kind        string `json:"kind"` // awaitHelp or awaitReview
	OrderID     string `json:"orderId,omitempty"`
	OrderNumber string `json:"orderNumber,omitempty"`
	ProductID   string `json:"productId,omitempty"`
	ProductName string `json:"productName,omitempty"`
	Rating      int    `json:"rating,omitempty"`
}

// The kinds of Awaiting.
const (
	awaitHelp   = "help"
	awaitReview = "review"
)

// Browse remembers where the customer is in a long list, for its "More" button
// (Telegram's button data is too short for a cursor).
type Browse struct {
	Category      string `json:"category,omitempty"`
	Query         string `json:"query,omitempty"`
	ProductCursor string `json:"productCursor,omitempty"`
	OrderCursor   string `json:"orderCursor,omitempty"`
}

// maxLineQuantity is the most of one product an order may have.
const maxLineQuantity = 999

// line returns the cart line of a product, or nil.
func (s *Session) line(productID string) *CartLine {
	for i := range s.Cart {
		if s.Cart[i].ProductID == productID {
			return &s.Cart[i]
		}
	}
	return nil
}

// setQuantity sets a product's quantity in the cart; 0 removes it.
func (s *Session) setQuantity(productID string, qty int) {
	if qty <= 0 {
		s.Cart = slices.DeleteFunc(s.Cart, func(l CartLine) bool { return l.ProductID == productID })
		return
	}
	if l := s.line(productID); l != nil {
		l.Quantity = qty
	}
}

// items is the number of units in the cart.
func (s *Session) items() int {
	n := 0
	for _, l := range s.Cart {
		n += l.Quantity
	}
	return n
}

// subtotal is the cart's value at the prices it shows, in pence.
func (s *Session) subtotal() int64 {
	var sum int64
	for _, l := range s.Cart {
		p, _ := parseMinor(l.Price, 2)
		sum += p * int64(l.Quantity)
	}
	return sum
}

func (s *Session) addPending(orderID string) {
	if !slices.Contains(s.Pending, orderID) {
		s.Pending = append(s.Pending, orderID)
	}
}

// removePending forgets that an order's payment details are still to be sent and
// says whether they were.
func (s *Session) removePending(orderID string) bool {
	n := len(s.Pending)
	s.Pending = slices.DeleteFunc(s.Pending, func(id string) bool { return id == orderID })
	return len(s.Pending) != n
}

func (s *Session) addCancelled(orderID string) {
	if !slices.Contains(s.Cancelled, orderID) {
		s.Cancelled = append(s.Cancelled, orderID)
	}
}

// removeCancelled forgets an order cancelled here and says whether it was.
func (s *Session) removeCancelled(orderID string) bool {
	n := len(s.Cancelled)
	s.Cancelled = slices.DeleteFunc(s.Cancelled, func(id string) bool { return id == orderID })
	return len(s.Cancelled) != n
}
