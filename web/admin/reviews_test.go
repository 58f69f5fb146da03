package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"orderdesk/app/apptest"
	"orderdesk/modules/ordering"
	"orderdesk/modules/reviews"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// reviewed gives identity a shipped order of the shop's product and submits their
// review through the service, as the API does.
func reviewed(t *testing.T, env *apptest.Env, shop *apptest.Shop, identity string, rating int, body string) *reviews.Review {
	t.Helper()
	o := shop.Place(t, identity, 1)
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "test", Name: "test"})
	for _, st := range []ordering.Status{ordering.StatusProcessing, ordering.StatusPicked, ordering.StatusShipped} {
		if _, err := env.App.Orders.Transition(ctx, o.ID, st, "test"); err != nil {
			t.Fatal(err)
		}
	}
	r, created, err := env.App.Reviews.Submit(context.Background(), reviews.Author{AppID: shop.App.App.ID, IdentityRef: identity},
		shop.Product.ID, reviews.Input{Rating: rating, Body: body})
	if err != nil || !created {
		t.Fatalf("submit: %v (created %v)", err, created)
	}
	return r
}

func reviewStatus(t *testing.T, env *apptest.Env, id uuid.UUID) *reviews.Review {
	t.Helper()
	r, err := env.App.Reviews.Review(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReviewModerationPages(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Moderation shop")
	xss := reviewed(t, env, shop, "tg-xss", 1, `<script>alert(1)</script> <b>bold</b> & "quoted"`)
	good := reviewed(t, env, shop, "tg-good", 5, "Perfect 🍵\nSecond line")
	c := roleClient(t, env, "rev-support", staff.RoleSupport)

	resp, page := c.Get("/admin/reviews")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/reviews: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`href="/admin/reviews"`, // the menu entry
		`data-status="pending">pending <span class="count">2</span>`,
		`data-status="approved">approved <span class="count">0</span>`,
		shop.Product.Name, "/admin/reviews?status=pending&amp;product=" + shop.Product.ID.String(),
		"&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;",
		"Perfect 🍵\nSecond line", "★☆☆☆☆", "★★★★★", "tg-xss", shop.App.App.Name,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the queue lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<b>bold") {
		t.Fatal("a review's HTML reached the page unescaped")
	}
	if strings.Contains(page, "/admin/catalog/products/") {
		t.Error("support, who cannot read the catalog, is linked to it")
	}
	back := "/admin/reviews?status=pending"

	// Hiding needs a reason: the form comes back marked, nothing changes.
	resp, page = c.Post("/admin/reviews/"+xss.ID.String()+"/hide", url.Values{"reason": {"  "}, "back": {back}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Say why the review is hidden") ||
		!strings.Contains(page, `id="hide-reason-`+xss.ID.String()+`" maxlength="500" value="  " aria-invalid="true"`) {
		t.Fatalf("hide without a reason: %d\n%s", resp.StatusCode, page)
	}
	if r := reviewStatus(t, env, xss.ID); r.Status != reviews.StatusPending {
		t.Fatalf("hidden without a reason: %s", r.Status)
	}
	resp, _ = c.Post("/admin/reviews/"+xss.ID.String()+"/hide", url.Values{"reason": {"Script injection attempt"}, "back": {back}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != back {
		t.Fatalf("hide: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if r := reviewStatus(t, env, xss.ID); r.Status != reviews.StatusHidden || r.HiddenReason != "Script injection attempt" || r.ModeratedBy != "rev-support" {
		t.Fatalf("after hiding: %+v", r)
	}
	_, page = c.Get("/admin/reviews?status=hidden")
	if !strings.Contains(page, "Hidden by rev-support") || !strings.Contains(page, "Script injection attempt") ||
		!strings.Contains(page, `data-status="hidden">hidden <span class="count">1</span>`) || !strings.Contains(page, "Review hidden from client apps.") {
		t.Fatalf("the hidden tab:\n%s", page)
	}

	// Approve, then approving again is a conflict said in words.
	resp, _ = c.Post("/admin/reviews/"+good.ID.String()+"/approve", url.Values{"back": {back}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	resp, page = c.Post("/admin/reviews/"+good.ID.String()+"/approve", url.Values{"back": {back}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "approved already") {
		t.Fatalf("approve twice: %d", resp.StatusCode)
	}

	// Reply: empty is refused, then written, rewritten and removed.
	resp, page = c.Post("/admin/reviews/"+good.ID.String()+"/reply", url.Values{"reply": {""}, "back": {"/admin/reviews?status=approved"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Write a reply") {
		t.Fatalf("empty reply: %d", resp.StatusCode)
	}
	for _, text := range []string{"Thank you! <3", "Thank you, Ann! 🙏"} {
		resp, _ = c.Post("/admin/reviews/"+good.ID.String()+"/reply", url.Values{"reply": {text}, "back": {"/admin/reviews?status=approved"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply %q: %d", text, resp.StatusCode)
		}
	}
	_, page = c.Get("/admin/reviews?status=approved")
	if !strings.Contains(page, "Thank you, Ann! 🙏") || !strings.Contains(page, "Approved by rev-support") || !strings.Contains(page, "remove-reply-"+good.ID.String()) {
		t.Fatalf("the approved tab:\n%s", page)
	}
	resp, _ = c.Post("/admin/reviews/"+good.ID.String()+"/reply/delete", url.Values{"back": {"https://evil.example/admin/reviews?x"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/reviews" {
		t.Fatalf("remove the reply: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if r := reviewStatus(t, env, good.ID); r.Reply != "" {
		t.Fatalf("reply kept: %q", r.Reply)
	}
	resp, _ = c.Post("/admin/reviews/"+good.ID.String()+"/reply/delete", nil)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("remove a reply twice: %d", resp.StatusCode)
	}
	if resp, _ := c.Post("/admin/reviews/"+uuid.NewString()+"/approve", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("approve an unknown review: %d", resp.StatusCode)
	}
	if resp, _ := c.Post("/admin/reviews/"+good.ID.String()+"/approve", url.Values{"_csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("approve without the CSRF token: %d", resp.StatusCode)
	}

	// Every action is in the audit log, by whom.
	for action, n := range map[string]int{"review.hide": 1, "review.approve": 1, "review.reply": 2, "review.reply_remove": 1} {
		var id string
		if action == "review.hide" {
			id = xss.ID.String()
		} else {
			id = good.ID.String()
		}
		es := auditRows(t, env, action, id)
		got := 0
		for _, e := range es {
			if e.Action == action && e.ObjectType == "review" && e.Actor == "rev-support" && e.ActorKind == "staff" {
				got++
			}
		}
		if got != n {
			t.Errorf("%s: %d audit entries, want %d: %+v", action, got, n, es)
		}
	}

	// The catalog link for those who can read the catalog.
	m := roleClient(t, env, "rev-manager", staff.RoleManager)
	if _, page := m.Get("/admin/reviews?status=approved"); !strings.Contains(page, "/admin/catalog/products/"+shop.Product.ID.String()) {
		t.Error("a manager is not linked to the product in the catalog")
	}
}

func TestReviewQueuePages(t *testing.T) {
	env := apptest.Start(t)
	shop := env.NewShop(t, "Busy shop")
	const n = 27
	var ids []string
	for i := range n {
		r := reviewed(t, env, shop, fmt.Sprintf("tg-busy-%02d", i), i%5+1, fmt.Sprintf("Busy review number %02d", i))
		ids = append([]string{r.ID.String()}, ids...)
	}
	c := roleClient(t, env, "rev-pager", staff.RoleSupport)
	path := "/admin/reviews?status=pending&product=" + shop.Product.ID.String()
	var seen []string
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		resp, page := c.Get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, id := range ids {
			if strings.Contains(page, `id="review-`+id+`"`) {
				seen = append(seen, id)
			}
		}
		if !strings.Contains(page, fmt.Sprintf(`data-status="pending">pending <span class="count">%d</span>`, n)) {
			t.Fatalf("page %d lacks the count", pages)
		}
		path = ""
		if _, rest, ok := strings.Cut(page, `class="pager"><a href="`); ok {
			href, _, _ := strings.Cut(rest, `"`)
			path = strings.ReplaceAll(href, "&amp;", "&")
		}
	}
	if strings.Join(seen, " ") != strings.Join(ids, " ") {
		t.Fatalf("pages showed %d reviews in the order %v, want %v", len(seen), seen, ids)
	}
}

func TestReviewQueueRefusedToOtherRoles(t *testing.T) {
	env := apptest.Start(t)
	for _, role := range []staff.Role{staff.RolePacker, staff.RoleAccountant} {
		c := roleClient(t, env, "rev-"+string(role), role)
		resp, page := c.Get("/admin/reviews")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Your role does not give access") {
			t.Fatalf("%s: %d", role, resp.StatusCode)
		}
		if strings.Contains(page, `href="/admin/reviews"`) {
			t.Fatalf("%s sees the Reviews menu entry", role)
		}
	}
}
