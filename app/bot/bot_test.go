package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/app/bot"
	"orderdesk/modules/catalog"
	"orderdesk/modules/clients"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/modules/reviews"
	"orderdesk/ports"
)

func TestMain(m *testing.M) { apptest.Main(m) }

var (
	system = ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	staff  = ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "s1", Name: "sam", IP: "192.0.2.7"})
)

// shop is a running OrderDesk (with its worker) with a catalog, a client app whose
// webhook points at the bot's listener, and the fake Telegram.
type shop struct {
	env     *apptest.Env
	tg      *fakeTelegram
	app     *clients.Created
	addr    string // the bot's webhook listener
	dataDir string
	tea     *catalog.Product
	method  *ordering.ShippingMethod
	stop    func()
}

func newShop(t *testing.T) *shop {
	t.Helper()
	env := apptest.StartWith(t, nil)
	env.RunWorker(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // the bot listens on it; OrderDesk needs its URL first
	s := &shop{env: env, tg: newFakeTelegram(t), addr: ln.Addr().String(), dataDir: t.TempDir()}
	suffix := uuid.NewString()[:6]
	if s.app, err = env.App.Clients.CreateApp(system, "Telegram bot "+suffix, "http://"+s.addr+"/orderdesk"); err != nil {
		t.Fatal(err)
	}
	cat, err := env.App.Catalog.CreateCategory(system, catalog.CategoryInput{Name: "Tea " + suffix, Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	s.tea, err = env.App.Catalog.CreateProduct(system, catalog.ProductInput{Name: "Assam " + suffix, Description: "Malty & strong <b>breakfast</b> tea.",
		CategoryID: cat.ID.String(), SKU: "AS-" + suffix, Price: "4.50", WeightUnit: "grams", Weight: "250", ShippingWeight: "300",
		TrackStock: true, InitialStock: "20", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	ph, err := env.App.Catalog.AddPhoto(system, s.tea.ID, pngImage(t), "A tin of Assam")
	if err != nil {
		t.Fatal(err)
	}
	// Make the photo's renditions now rather than wait for the worker (it is idempotent).
	if err := env.App.Catalog.ProcessPhotoJob(system, []byte(`{"photoId":"`+ph.ID.String()+`"}`)); err != nil {
		t.Fatal(err)
	}
	if s.method, err = env.App.Orders.CreateShippingMethod(system, ordering.ShippingMethodInput{Name: "Tracked 48 " + suffix,
		ServiceCode: "TPN24", PackageFormat: "parcel", Price: "3.50", MaxWeight: "20000", Active: true}); err != nil {
		t.Fatal(err)
	}
	s.start(t)
	return s
}

func pngImage(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), 120, uint8(y * 5), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// botEnv is the bot's environment.
func (s *shop) botEnv() map[string]string {
	return map[string]string{
		"TELEGRAM_BOT_TOKEN": s.tg.token, "TELEGRAM_API_URL": s.tg.URL(),
		"ORDERDESK_API_URL": s.env.URL + "/api/v1", "ORDERDESK_API_KEY": s.app.APIKey,
		"BOT_WEBHOOK_ADDR": s.addr, "BOT_WEBHOOK_SECRET": s.app.WebhookSecret, "BOT_DATA_DIR": s.dataDir,
	}
}

// start runs the bot until stop or the end of the test.
func (s *shop) start(t *testing.T) {
	t.Helper()
	vars := s.botEnv()
	cfg, err := bot.LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.PollTimeout = 2 * time.Second
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b, err := bot.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("bot: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the bot did not stop within 20 s")
		}
	}
	t.Cleanup(s.stop)
	// Wait for its webhook listener.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot does not listen on %s: %v", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// orderOf finds the order the bot placed for a customer by its number.
func (s *shop) orderOf(t *testing.T, identity int64, number string) *ordering.Order {
	t.Helper()
	os, _, err := s.env.App.Orders.ClientOrders(context.Background(), ordering.ClientFilter{AppID: s.app.App.ID,
		IdentityRef: strconv.FormatInt(identity, 10), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range os {
		if os[i].Number == number {
			return &os[i]
		}
	}
	t.Fatalf("no order %s for %d", number, identity)
	return nil
}

var orderNumber = regexp.MustCompile(`OD-[0-9]+`)

// webhookWait is how long a message pushed by OrderDesk's webhook may take at most:
// the outbox relay, the worker and, should a delivery fail, its first retries.
const webhookWait = 90 * time.Second

// settle waits until OrderDesk has delivered every webhook event of the bot's app, so
// that the next events do not queue behind them.
func (s *shop) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(webhookWait)
	for {
		var pending int
		if err := s.env.App.DB.GetContext(context.Background(), &pending, `SELECT count(*) FROM clients.deliveries
			WHERE app_id = $1 AND status = 'pending'`, s.app.App.ID); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook deliveries still pending after %s", pending, webhookWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fillCart takes a customer from /start to a cart with n units of the tea.
func (s *shop) fillCart(t *testing.T, c *customer, n int) {
	t.Helper()
	c.say("/start")
	c.expect("Welcome, " + c.first)
	cats := c.expect("What are you looking for?")
	c.press(cats, s.tea.Name[len("Assam "):]) // the category is "Tea <suffix>"
	list := c.expect("Products", "Tap a product")
	c.press(list, s.tea.Name)
	p := c.expectPhoto(s.tea.Name, "£4.50", "in stock", "Malty & strong <b>breakfast</b> tea.")
	if !bytes.HasPrefix(p.Photo, []byte("\x89PNG")) && !bytes.HasPrefix(p.Photo, []byte("\xff\xd8")) {
		t.Fatalf("the product photo is not an image upload: %d bytes (%+v)", len(p.Photo), p)
	}
	for i := 1; i <= n; i++ {
		c.press(p, "Add to cart")
		c.expect("Added "+s.tea.Name+" to your cart ("+strconv.Itoa(i)+" in it)", "Your cart: "+strconv.Itoa(i)+" item")
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func newRequest(url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// TestCustomerJourney is the whole way: /start, browse, cart, checkout with a bad
// postcode, payment instructions with the QR code, paid, picked and shipped with the
// tracking number, a review, My orders, help and the shop's reply.
func TestCustomerJourney(t *testing.T) {
	s := newShop(t)
	c := s.tg.customer(t, 555001, "Ann")

	s.fillCart(t, c, 1)
	c.say("/cart")
	cart := c.expect("Your cart", "1 × "+s.tea.Name+" — £4.50", "Subtotal: £4.50")
	c.press(cart, "➕")
	cart = c.expect("Your cart", "2 × "+s.tea.Name+" — £9.00")
	if cart.Method != "editMessageText" {
		t.Errorf("➕ should edit the cart in place, got %s", cart.Method)
	}

	c.press(cart, "Checkout")
	ship := c.expect("How should we send it?")
	c.say("hello")
	c.expect("Please choose how to ship with the buttons")
	c.press(ship, s.method.Name)
	c.expect("Step 1 of 6")
	c.sendSticker()
	c.expect("I can only read text", "Step 1 of 6")
	c.say("Ann Example")
	c.expect("Step 2 of 6")
	c.say("1 High Street\nLondon")
	c.expect("one line at a time")
	c.say("1 High Street")
	step3 := c.expect("Step 3 of 6", "Skip")
	c.press(step3, "Skip")
	c.expect("Step 4 of 6")
	c.say("London")
	c.expect("Step 5 of 6")
	c.say("ZZ9 9ZZQ")
	c.expect("“ZZ9 9ZZQ” is not a UK postcode", "SW1A 1AA", "Step 5 of 6")
	c.say("sw1a1aa")
	c.expect("Step 6 of 6")
	c.say("12")
	c.expect("too short", "Step 6 of 6")
	c.say("+44 20 7946 0000")
	summary := c.expect("Please check your order", "2 × "+s.tea.Name+" — £9.00", s.method.Name+" — £3.50",
		"Total: £12.50", "Ann Example", "1 High Street", "London", "SW1A 1AA", "+44 20 7946 0000")

	c.press(summary, "Place order")
	placed := c.expect("Thank you! Order OD-", "is placed", "2 items", "total £12.50")
	number := orderNumber.FindString(placed.Text)
	pay := c.expect("How to pay for "+number, "BTC", "to this bitcoin address", "Lightning", "Pay by", "UK time")
	qr := c.expectPhoto("Scan to pay " + number)
	if !bytes.HasPrefix(qr.Photo, []byte("\x89PNG")) {
		t.Fatalf("the QR code is not a PNG upload: %d bytes", len(qr.Photo))
	}
	o := s.orderOf(t, c.id, number)
	if o.Status != ordering.StatusPendingPayment || o.TotalMinor != 1250 {
		t.Fatalf("order %s is %s for %d pence", number, o.Status, o.TotalMinor)
	}
	// The summary's button is gone: pressing it again places nothing.
	s.tg.mu.Lock()
	closed := s.tg.messages[summary.MessageID]
	s.tg.mu.Unlock()
	if closed.Text != "🧾 Placed as order "+number+"." || len(closed.Buttons) != 0 {
		t.Errorf("the summary was not closed: %q %v", closed.Text, closed.Buttons)
	}
	c.press(pay, "Order details")
	c.expect("Order "+number, "awaiting payment", "Total: £12.50", "Payment: pending")
	s.settle(t)

	// The customer pays; OrderDesk's webhook makes the bot say so.
	if _, err := s.env.App.Payments.Simulate(staff, o.ID, "pay"); err != nil {
		t.Fatal(err)
	}
	c.expectWithin(webhookWait, "Payment received for "+number)
	s.settle(t)

	// The packer presses Picked; the sandbox carrier ships it.
	if _, _, err := s.env.App.Fulfilment.Picked(staff, o.ID, fulfilment.PickInput{}); err != nil {
		t.Fatal(err)
	}
	c.expectWithin(webhookWait, number+" is packed and about to ship")
	shipped := c.expectWithin(webhookWait, number+" has shipped", "Tracking number:")
	sh, err := s.env.App.Fulfilment.Shipment(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tn := sh.TrackingNumber(); tn == "" || !bytes.Contains([]byte(shipped.Text), []byte("Tracking number: "+tn)) {
		t.Fatalf("shipped message %q lacks the tracking number %q", shipped.Text, tn)
	}

	// A review, from the button under the shipping message.
	c.press(shipped, "Review "+s.tea.Name)
	stars := c.expect("How many stars do you give " + s.tea.Name)
	c.press(stars, "⭐⭐⭐⭐⭐")
	c.expect("Now write a few words")
	c.say("Lovely tea, arrived quickly 🍵 <3")
	c.expect("Thank you for your review of "+s.tea.Name, "once the shop has checked it")
	pending, _, err := s.env.App.Reviews.Queue(context.Background(), reviews.StaffFilter{Status: reviews.StatusPending, ProductID: &s.tea.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Rating != 5 || pending[0].Body != "Lovely tea, arrived quickly 🍵 <3" || pending[0].IdentityRef != "555001" {
		t.Fatalf("pending reviews %+v", pending)
	}
	if _, err := s.env.App.Reviews.Approve(staff, pending[0].ID); err != nil {
		t.Fatal(err)
	}
	c.say("Assam")
	found := c.expect("Products matching “Assam”")
	c.press(found, s.tea.Name)
	rated := c.expectPhoto(s.tea.Name, "★ 5.0 (1 review)")
	c.press(rated, "Reviews (1)")
	c.expect("Reviews of "+s.tea.Name+": 5.0 from 1 review", "★★★★★", "Lovely tea, arrived quickly 🍵 <3")

	// My orders, the order's details, and help with it.
	c.say("/orders")
	list := c.expect("Your orders")
	c.press(list, number+" · shipped")
	details := c.expect("Order "+number, "shipped", "Tracking number: "+sh.TrackingNumber(), "Payment: paid")
	c.press(details, "Help with this order")
	c.expect("Write your message to the shop about " + number)
	c.say("Could you leave it with a neighbour?")
	c.expect("Sent to the shop about " + number)
	msgs, err := s.env.App.Orders.Messages(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != "Could you leave it with a neighbour?" || msgs[0].AuthorKind != "customer" {
		t.Fatalf("messages %+v", msgs)
	}
	full, err := s.env.App.Orders.Order(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.env.App.Orders.ReplyAsStaff(staff, full, "Of course — number 3 will take it."); err != nil {
		t.Fatal(err)
	}
	c.expectWithin(webhookWait, "The shop replied about "+number, "Of course — number 3 will take it.")

	if q := s.tg.unanswered(); len(q) > 0 {
		t.Errorf("button presses never answered: %v", q)
	}
	s.tg.mu.Lock()
	commands := s.tg.commands
	s.tg.mu.Unlock()
	if len(commands) == 0 || commands[0] != "start" {
		t.Errorf("command menu %v", commands)
	}
}

// TestRestartKeepsCartAndCheckout stops the bot mid-checkout and starts another on the
// same data directory: the cart and the answers are there. A postcode OrderDesk
// refuses (written by hand into the saved checkout) takes the customer back to that
// step, with OrderDesk's reason.
func TestRestartKeepsCartAndCheckout(t *testing.T) {
	s := newShop(t)
	c := s.tg.customer(t, 555002, "Bob")
	s.fillCart(t, c, 2)
	c.say("/cart")
	cart := c.expect("Your cart", "2 × "+s.tea.Name)
	c.press(cart, "Checkout")
	c.press(c.expect("How should we send it?"), s.method.Name)
	c.expect("Step 1 of 6")
	c.say("Bob Example")
	c.expect("Step 2 of 6")

	s.stop()
	s.start(t)
	c.say("2 Low Road")
	c.expect("Step 3 of 6")
	c.say("/cart")
	c.expect("Your cart", "2 × "+s.tea.Name+" — £9.00")

	// Carry on: the checkout resumes where it stopped.
	s.stop()
	s.start(t)
	c.say("/cart")
	cart = c.expect("Your cart")
	c.press(cart, "Checkout")
	c.expect("Step 3 of 6")
	c.say("Flat 1")
	c.expect("Step 4 of 6")
	c.say("Leeds")
	c.expect("Step 5 of 6")
	c.say("LS1 4AP")
	c.expect("Step 6 of 6")
	c.say("0113 496 0000")
	c.expect("Please check your order", "Flat 1", "LS1 4AP")

	// A saved postcode that OrderDesk refuses: its 422 names shippingAddress.postcode.
	s.stop()
	path := filepath.Join(s.dataDir, "sessions", "555002.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved map[string]any
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	saved["checkout"].(map[string]any)["address"].(map[string]any)["postcode"] = "NOT A CODE"
	raw, _ = json.Marshal(saved)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s.start(t)
	c.say("/cart")
	c.press(c.expect("Your cart"), "Checkout")
	summary := c.expect("Please check your order", "NOT A CODE")
	c.press(summary, "Place order")
	step5 := c.expect("The shop could not accept the postcode: This is not a valid UK postcode", "Step 5 of 6")
	if len(step5.Buttons) != 0 {
		t.Errorf("the refused postcode is offered again: %v", step5.Buttons)
	}
	c.say("LS1 4AP")
	// Only the refused step is asked again.
	c.press(c.expect("Please check your order", "LS1 4AP", "0113 496 0000"), "Place order")
	c.expect("Thank you! Order OD-", "2 items", "total £12.50")
	if q := s.tg.unanswered(); len(q) > 0 {
		t.Errorf("button presses never answered: %v", q)
	}
}

// TestWebhookSignatures posts events to the bot's listener: forged, stale and
// unsigned ones are refused with 401; a good one is told to the customer once, however
// often it is delivered.
func TestWebhookSignatures(t *testing.T) {
	s := newShop(t)
	c := s.tg.customer(t, 555003, "Cy")
	url := "http://" + s.addr + "/orderdesk"
	body := []byte(`{"id":"0193a6a4-7c1e-7d2a-9f3b-5c1d2e3f4a5b","type":"order.message","createdAt":"2026-11-22T10:00:00Z",` +
		`"data":{"orderId":"0193a6a4-0000-7000-8000-000000000001","number":"OD-9999","status":"processing","identityReference":"555003",` +
		`"message":{"id":"0193a6a4-0000-7000-8000-000000000002","body":"Your parcel leaves today.","createdAt":"2026-11-22T10:00:00Z"}}}`)
	now := time.Now()
	post := func(sig string, body []byte) int {
		t.Helper()
		req, err := newRequest(url, body)
		if err != nil {
			t.Fatal(err)
		}
		if sig != "" {
			req.Header.Set("OrderDesk-Signature", sig)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for name, sig := range map[string]string{
		"unsigned":      "",
		"wrong secret":  clients.Sign("whsec_not-the-secret", now, body),
		"stale":         clients.Sign(s.app.WebhookSecret, now.Add(-6*time.Minute), body),
		"future":        clients.Sign(s.app.WebhookSecret, now.Add(6*time.Minute), body),
		"garbage":       "t=abc,v1=zz",
		"other body":    clients.Sign(s.app.WebhookSecret, now, append(body, ' ')),
		"no v1":         "t=" + strconv.FormatInt(now.Unix(), 10),
		"forged digest": "t=" + strconv.FormatInt(now.Unix(), 10) + ",v1=" + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	} {
		if code := post(sig, body); code != 401 {
			t.Errorf("%s: status %d, want 401", name, code)
		}
	}
	c.quiet(300 * time.Millisecond)
	notJSON := []byte("hello")
	if code := post(clients.Sign(s.app.WebhookSecret, now, notJSON), notJSON); code != 400 {
		t.Errorf("signed but not an event: status %d, want 400", code)
	}
	for path, want := range map[string]int{"/healthz": 200, "/orderdesk": 405} {
		resp, err := httpClient.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	good := clients.Sign(s.app.WebhookSecret, now, body)
	if code := post(good, body); code != 200 {
		t.Fatalf("signed event: status %d", code)
	}
	c.expect("The shop replied about OD-9999", "Your parcel leaves today.")
	// A rotated secret signs twice; a redelivery is handled once.
	rotated := good + ",v1=" + "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
	for range 3 {
		if code := post(rotated, body); code != 200 {
			t.Fatalf("redelivery: status %d", code)
		}
	}
	c.quiet(300 * time.Millisecond)
}

// TestHelpfulAnswers checks that bad input is always answered.
func TestHelpfulAnswers(t *testing.T) {
	s := newShop(t)
	c := s.tg.customer(t, 555004, "Di")
	c.say("/frobnicate")
	c.expect("I don't know the command /frobnicate")
	c.say("/cancel")
	c.expect("There is nothing to cancel")
	c.say("x")
	c.expect("Type at least two letters")
	c.say("zzzz-no-such-thing")
	c.expect("I found no product matching “zzzz-no-such-thing”")
	c.sendSticker()
	c.expect("I can only read text")
	c.say("/cart")
	empty := c.expect("Your cart is empty")
	c.press(empty, "Browse the shop")
	c.expect("What are you looking for?")
	c.say("/orders")
	c.expect("You have no orders yet")
}

// answerAddress answers the six address steps.
func answerAddress(c *customer) sent {
	c.t.Helper()
	c.expect("Step 1 of 6")
	c.say("Eve Example")
	c.expect("Step 2 of 6")
	c.say("3 Mill Lane")
	c.press(c.expect("Step 3 of 6"), "Skip")
	c.expect("Step 4 of 6")
	c.say("Bath")
	c.expect("Step 5 of 6")
	c.say("BA1 1AA")
	c.press(c.expect("Step 6 of 6"), "Skip")
	return c.expect("Please check your order", "BA1 1AA")
}

// TestOrderProblems: not enough stock (409) goes back to the cart, a shipping method
// withdrawn meanwhile (422 on shippingMethodId) back to the choice of shipping; the
// customer cancels an order (told once), and another one expires unpaid.
func TestOrderProblems(t *testing.T) {
	s := newShop(t)
	express, err := s.env.App.Orders.CreateShippingMethod(system, ordering.ShippingMethodInput{Name: "Express " + s.tea.Name[len("Assam "):],
		ServiceCode: "TPS24", PackageFormat: "parcel", Price: "6.00", MaxWeight: "20000", Express: true, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	c := s.tg.customer(t, 555005, "Eve")
	s.fillCart(t, c, 2)
	c.say("/cart")
	c.press(c.expect("Your cart"), "Checkout")
	c.press(c.expect("How should we send it?"), s.method.Name)
	summary := answerAddress(c)

	if _, err := s.env.App.Catalog.SetStock(system, s.tea.ID, 1); err != nil {
		t.Fatal(err)
	}
	c.press(summary, "Place order")
	c.expect("⚠️", "Please change your cart and check out again")
	cart := c.expect("Your cart", "2 × "+s.tea.Name)
	if _, err := s.env.App.Catalog.SetStock(system, s.tea.ID, 20); err != nil {
		t.Fatal(err)
	}

	if _, err := s.env.App.Orders.UpdateShippingMethod(system, s.method.ID, ordering.ShippingMethodInput{Name: s.method.Name,
		ServiceCode: "TPN24", PackageFormat: "parcel", Price: "3.50", MaxWeight: "20000", Active: false}); err != nil {
		t.Fatal(err)
	}
	c.press(cart, "Checkout")
	c.press(c.expect("Please check your order", s.method.Name), "Place order")
	c.expect("There is no such shipping method. Please choose another way to ship.")
	ship := c.expect("How should we send it?")
	for _, r := range ship.Buttons {
		for _, b := range r {
			if b.Text == s.method.Name+" — £3.50" {
				t.Errorf("the withdrawn method is still offered")
			}
		}
	}
	c.press(ship, express.Name)
	c.press(c.expect("Please check your order", express.Name+" — £6.00", "Total: £15.00"), "Place order")
	number := orderNumber.FindString(c.expect("Thank you! Order OD-").Text)
	pay := c.expect("How to pay for " + number)
	s.settle(t)

	c.press(pay, "Cancel order")
	sure := c.expect("Cancel order " + number)
	c.press(sure, "Yes, cancel it")
	c.expect("Order " + number + " is cancelled.")
	if o := s.orderOf(t, c.id, number); o.Status != ordering.StatusCancelled {
		t.Fatalf("order %s is %s", number, o.Status)
	}
	s.settle(t)
	c.quiet(300 * time.Millisecond) // no second "cancelled" from the webhook
	c.press(pay, "Cancel order")
	c.expect(number+" is cancelled: it can no longer be cancelled", "Help with this order")

	// Another order, left unpaid until it expires.
	c.say(s.tea.Name)
	c.press(c.expect("Products matching"), s.tea.Name)
	c.press(c.expectPhoto(s.tea.Name), "Add to cart")
	c.press(c.expect("Added"), "Cart & checkout")
	c.press(c.expect("Your cart", "1 × "+s.tea.Name), "Checkout")
	c.press(c.expect("How should we send it?"), express.Name)
	c.press(answerAddress(c), "Place order")
	second := orderNumber.FindString(c.expect("Thank you! Order OD-").Text)
	c.expect("How to pay for " + second)
	s.settle(t)
	if _, err := s.env.App.Payments.Simulate(staff, s.orderOf(t, c.id, second).ID, "expire"); err != nil {
		t.Fatal(err)
	}
	c.expectWithin(webhookWait, "The time to pay for "+second+" ran out")
	if q := s.tg.unanswered(); len(q) > 0 {
		t.Errorf("button presses never answered: %v", q)
	}
}
