package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// TestModerateReviews is the reviews issue's staff flow: two customers who received
// a product review it through the API; a support agent opens the moderation queue
// from the menu, approves one, tries to hide the other without a reason and is
// asked for one, hides it with a reason, and replies publicly to the approved one.
// Client apps then see the approved review with the reply and the product's rating;
// the audit log has every action. A packer is refused the queue.
func TestModerateReviews(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Review shop")
	staffCtx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "test", Name: "test"})
	api := env.API(t, shop.App.APIKey).Strict()
	productPath := "/api/v1/products/" + shop.Product.ID.String()
	post := func(identity string, rating int, body string) string {
		t.Helper()
		o := shop.Place(t, identity, 1)
		for _, st := range []ordering.Status{ordering.StatusProcessing, ordering.StatusPicked, ordering.StatusShipped} {
			if _, err := env.App.Orders.Transition(staffCtx, o.ID, st, "test"); err != nil {
				t.Fatal(err)
			}
		}
		raw, _ := json.Marshal(map[string]any{"rating": rating, "body": body})
		resp, out := api.Do(http.MethodPost, productPath+"/reviews", raw, http.Header{"X-Identity-Reference": {identity}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("post review: %d %s", resp.StatusCode, out)
		}
		var r struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(out, &r)
		return r.ID
	}
	kind := post("tg-kind", 5, "Wonderful tea 🍵 <b>not bold</b>")
	spam := post("tg-spam", 1, "Cheaper at spam.example!!!")
	env.CreateUser(t, "rita", staff.RoleSupport, "correct horse battery")
	env.CreateUser(t, "rev-packer", staff.RolePacker, "correct horse battery")
	ctx := apptest.Browser(t, 90*time.Second)
	u := env.URL

	if err := chromedp.Do(ctx,
		logIn(u, "rita", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Click(chromedp.CSS(`#menu a[href="/admin/reviews"]`)),
		chromedp.WaitVisible(chromedp.ID("review-tabs")),
		chromedp.WaitVisible(chromedp.ID("review-"+kind)),
		chromedp.WaitVisible(chromedp.ID("review-"+spam)),
	); err != nil {
		t.Fatal(err)
	}
	tabs := run(t, ctx, chromedp.Text(chromedp.ID("review-tabs")))
	if !strings.Contains(strings.ToLower(tabs), "pending 2") {
		t.Fatalf("tabs: %q", tabs)
	}
	card := run(t, ctx, chromedp.Text(chromedp.ID("review-"+kind)))
	for _, want := range []string{shop.Product.Name, "5/5", "Wonderful tea 🍵 <b>not bold</b>", "tg-kind"} {
		if !strings.Contains(card, want) {
			t.Fatalf("the review's card lacks %q:\n%s", want, card)
		}
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#review-`+kind+` .review-body *').length`)); n != 0 {
		t.Fatalf("the review's HTML became %d elements", n)
	}

	// Approve the kind one: it leaves the pending tab.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("approve-"+kind)),
		chromedp.WaitNotPresent(chromedp.ID("review-"+kind)),
		chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
	); err != nil {
		t.Fatal(err)
	}
	if flash := run(t, ctx, chromedp.Text(chromedp.CSS(".flash-ok"))); !strings.Contains(flash, "Review approved") {
		t.Fatalf("flash %q", flash)
	}

	// Hide the spam: without a reason first.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("hide-"+spam)),
		chromedp.WaitVisible(chromedp.CSS(`#hide-form-`+spam+` .field-error`)),
	); err != nil {
		t.Fatal(err)
	}
	if msg := run(t, ctx, chromedp.Text(chromedp.CSS(`#hide-form-`+spam+` .field-error`))); !strings.Contains(msg, "Say why the review is hidden") {
		t.Fatalf("field error %q", msg)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("hide-reason-"+spam), "Advertises another shop"),
		chromedp.Click(chromedp.ID("hide-"+spam)),
		chromedp.WaitNotPresent(chromedp.ID("review-"+spam)),
		chromedp.WaitVisible(chromedp.ID("reviews-empty")),
	); err != nil {
		t.Fatal(err)
	}

	// The hidden tab says why.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#review-tabs a[data-status="hidden"]`)),
		chromedp.WaitVisible(chromedp.ID("review-"+spam)),
	); err != nil {
		t.Fatal(err)
	}
	if reason := run(t, ctx, chromedp.Text(chromedp.CSS(`#review-`+spam+` .hidden-reason`))); !strings.Contains(reason, "Hidden by rita") ||
		!strings.Contains(reason, "Advertises another shop") {
		t.Fatalf("hidden reason %q", reason)
	}

	// Reply publicly to the approved one.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#review-tabs a[data-status="approved"]`)),
		chromedp.WaitVisible(chromedp.ID("review-"+kind)),
		chromedp.SendKeys(chromedp.ID("reply-body-"+kind), "Thank you for the kind words! 🙏"),
		chromedp.Click(chromedp.ID("reply-"+kind)),
		chromedp.WaitVisible(chromedp.ID("reply-text-"+kind)),
	); err != nil {
		t.Fatal(err)
	}
	if reply := run(t, ctx, chromedp.Text(chromedp.ID("reply-text-"+kind))); !strings.Contains(reply, "Thank you for the kind words! 🙏") ||
		!strings.Contains(reply, "by rita") {
		t.Fatalf("reply %q", reply)
	}

	// Client apps see the approved review, with the reply, and the rating.
	var list struct {
		Data []struct {
			ID    string `json:"id"`
			Body  string `json:"body"`
			Reply *struct {
				Body string `json:"body"`
			} `json:"reply"`
		} `json:"data"`
	}
	api.JSON(productPath+"/reviews", http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].ID != kind || list.Data[0].Body != "Wonderful tea 🍵 <b>not bold</b>" ||
		list.Data[0].Reply == nil || list.Data[0].Reply.Body != "Thank you for the kind words! 🙏" {
		t.Fatalf("the API's reviews: %+v", list)
	}
	var product struct {
		Rating struct {
			Average *string `json:"average"`
			Count   int     `json:"count"`
		} `json:"rating"`
	}
	api.JSON(productPath, http.StatusOK, &product)
	if product.Rating.Average == nil || *product.Rating.Average != "5.0" || product.Rating.Count != 1 {
		t.Fatalf("rating %+v", product.Rating)
	}

	// The audit log has each action, by rita.
	entries, err := env.App.Audit.ListAudit(context.Background(), ports.AuditFilter{Actor: "rita", Action: "review.", Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Action+" "+e.ObjectID] = e.Detail
	}
	if len(entries) != 3 || !strings.Contains(got["review.hide "+spam], "Advertises another shop") ||
		got["review.reply "+kind] != "Thank you for the kind words! 🙏" || got["review.approve "+kind] == "" {
		t.Fatalf("audit entries: %v", got)
	}

	// A packer is refused the queue and has no menu entry for it.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("username")),
		logIn(u, "rev-packer", "correct horse battery"),
		chromedp.WaitVisible(chromedp.ID("menu")),
		chromedp.Navigate(u+"/admin/reviews"),
		chromedp.WaitVisible(chromedp.ID("main")),
	); err != nil {
		t.Fatal(err)
	}
	if body := run(t, ctx, chromedp.Text(chromedp.ID("main"))); !strings.Contains(body, "Your role does not give access") {
		t.Fatalf("a packer at /admin/reviews sees:\n%s", body)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#menu a[href="/admin/reviews"]').length`)); n != 0 {
		t.Fatal("a packer has the Reviews menu entry")
	}
}
