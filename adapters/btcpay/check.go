package btcpay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"orderdesk/ports"
)

// Permission is a Greenfield API key permission OrderDesk uses, and what for.
type Permission struct {
	Name string
	For  string
}

// required are the permissions without which OrderDesk cannot take payments.
var required = []Permission{
	{"btcpay.store.cancreateinvoice", "create invoices"},
	{"btcpay.store.canviewinvoices", "read invoices and their payments"},
	{"btcpay.store.canmodifyinvoices", "mark invoices settled or invalid"},
	{"btcpay.store.webhooks.canmodifywebhooks", "register the store webhook"},
}

// refunds is the permission refunds need; claims are approved at once only with it
// (btcpay.store.cancreatenonapprovedpullpayments makes refunds that staff approve in
// BTCPay).
var refunds = Permission{"btcpay.store.cancreatepullpayments", "refund invoices"}

// implied lists, for a permission, the ones it includes (BTCPay's policy hierarchy,
// the part that concerns OrderDesk).
var implied = map[string][]string{
	"btcpay.store.canmodifystoresettings": {"btcpay.store.canviewstoresettings", "btcpay.store.canmodifyinvoices",
		"btcpay.store.webhooks.canmodifywebhooks", "btcpay.store.canmanagepullpayments"},
	"btcpay.store.canmodifyinvoices":     {"btcpay.store.canviewinvoices", "btcpay.store.cancreateinvoice"},
	"btcpay.store.canmanagepullpayments": {"btcpay.store.cancreatepullpayments"},
	"btcpay.store.cancreatepullpayments": {"btcpay.store.cancreatenonapprovedpullpayments"},
}

// hasPermission reports whether a key with the permissions have may do want in store:
// directly, through a permission that includes it, or through "unrestricted". A
// permission ending in ":<storeId>" counts for that store only.
func hasPermission(have []string, want, store string) bool {
	for _, p := range have {
		name, scope, scoped := strings.Cut(p, ":")
		if scoped && scope != store {
			continue
		}
		if name == "unrestricted" || includes(name, want) {
			return true
		}
	}
	return false
}

func includes(p, want string) bool {
	if p == want {
		return true
	}
	for _, q := range implied[p] {
		if includes(q, want) {
			return true
		}
	}
	return false
}

// CheckResult is what Check found out, for a person to read (Report).
type CheckResult struct {
	URL       string
	Version   string
	Synced    bool
	StoreID   string
	StoreName string
	// StoreHidden: the key may not read the store's settings (nor so its name); its
	// invoices answered instead.
	StoreHidden bool
	// Permissions are the key's; Missing the required ones it lacks.
	Permissions []string
	Missing     []Permission
	Warnings    []string
	// Problem is the first thing that stops OrderDesk from working, "" when none.
	Problem string
}

// Report renders the result on several lines.
func (r *CheckResult) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "BTCPay Server: %s\n", r.URL)
	if r.Version != "" {
		synced := "fully synced"
		if !r.Synced {
			synced = "NOT fully synced"
		}
		fmt.Fprintf(&b, "  version %s, %s\n", r.Version, synced)
	}
	switch {
	case r.StoreName != "":
		fmt.Fprintf(&b, "Store: %s (%s)\n", r.StoreName, r.StoreID)
	case r.StoreHidden:
		fmt.Fprintf(&b, "Store: %s (its invoices answer; its name is hidden from this key)\n", r.StoreID)
	default:
		fmt.Fprintf(&b, "Store: %s\n", r.StoreID)
	}
	if r.Permissions != nil {
		b.WriteString("API key permissions:\n")
		for _, p := range r.Permissions {
			fmt.Fprintf(&b, "  %s\n", p)
		}
		for _, p := range r.Missing {
			fmt.Fprintf(&b, "  MISSING %s (to %s)\n", p.Name, p.For)
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", w)
	}
	if r.Problem != "" {
		fmt.Fprintf(&b, "FAILED: %s\n", r.Problem)
	} else {
		b.WriteString("OK: OrderDesk can take payments with this server, key and store.\n")
	}
	return b.String()
}

// Check verifies the configuration against the server: that it answers (its version
// and sync state), that the API key has the permissions OrderDesk needs for the store,
// and that the store exists. The result is always returned for its report; the error
// is its Problem, when there is one.
func (c *Client) Check(ctx context.Context) (*CheckResult, error) {
	r := &CheckResult{URL: c.base, StoreID: c.store}
	fail := func(format string, args ...any) (*CheckResult, error) {
		r.Problem = fmt.Sprintf(format, args...)
		return r, errors.New(r.Problem)
	}
	info, err := c.serverInfo(ctx)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && (ae.status == http.StatusUnauthorized || ae.status == http.StatusForbidden) {
			return fail("BTCPay Server refuses the API key (HTTP %d: %s): is BTCPAY_API_KEY right?", ae.status, ae.detail)
		}
		return fail("cannot reach BTCPay Server at %s: %v", c.base, err)
	}
	r.Version, r.Synced = info.Version, info.FullySynched
	if !info.FullySynched {
		r.Warnings = append(r.Warnings, "the server is not fully synced: on-chain payments may not be seen until it is")
	}

	var key struct {
		Permissions []string `json:"permissions"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/api-keys/current", nil, nil, &key); err != nil {
		return fail("cannot read the API key's permissions: %v", err)
	}
	r.Permissions = key.Permissions
	if r.Permissions == nil {
		r.Permissions = []string{}
	}
	for _, p := range required {
		if !hasPermission(key.Permissions, p.Name, c.store) {
			r.Missing = append(r.Missing, p)
		}
	}
	switch {
	case hasPermission(key.Permissions, refunds.Name, c.store):
	case hasPermission(key.Permissions, "btcpay.store.cancreatenonapprovedpullpayments", c.store):
		r.Warnings = append(r.Warnings, "refunds will wait for approval in BTCPay: the key lacks "+refunds.Name)
	default:
		r.Warnings = append(r.Warnings, "refunds are not possible: the key lacks "+refunds.Name)
	}

	var store struct {
		ID              string `json:"id"`
		Name            string `json:"name"`
		DefaultCurrency string `json:"defaultCurrency"`
	}
	err = c.call(ctx, http.MethodGet, c.storePath(), nil, nil, &store)
	switch ports.ErrorCodeOf(err) {
	case "":
		r.StoreName = store.Name
	case ports.EUNAVAILABLE:
		// The key need not see the store's settings: listing invoices proves the store
		// exists and the key reaches it.
		err = c.call(ctx, http.MethodGet, c.storePath("invoices"), url.Values{"take": {"1"}}, nil, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.detail != "" {
			return fail("the store %s cannot be reached with this key (HTTP %d: %s)", c.store, ae.status, ae.detail)
		} else if err != nil {
			return fail("the store %s cannot be reached with this key: %v", c.store, err)
		}
		r.StoreHidden = true
	case ports.ENOTFOUND:
		return fail("there is no store %s on this server (check BTCPAY_STORE_ID)", c.store)
	default:
		return fail("cannot read the store %s: %v", c.store, err)
	}
	if len(r.Missing) > 0 {
		var names []string
		for _, p := range r.Missing {
			names = append(names, p.Name)
		}
		return fail("the API key lacks %s", strings.Join(names, ", "))
	}
	return r, nil
}

// RegisterWebhook creates the store webhook that posts every event to url, with
// automatic redelivery and a new random secret, and returns its id and the secret
// (BTCPay shows it only now: it goes into BTCPAY_WEBHOOK_SECRET). ECONFLICT when the
// store has a webhook to url already.
func (c *Client) RegisterWebhook(ctx context.Context, hookURL string) (id, secret string, err error) {
	u, perr := url.Parse(hookURL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", ports.Errorf(ports.EINVALID, "The webhook URL must be an absolute http(s) URL, not %q.", hookURL)
	}
	var existing []struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	if err := c.call(ctx, http.MethodGet, c.storePath("webhooks"), nil, nil, &existing); err != nil {
		return "", "", err
	}
	for _, h := range existing {
		if h.URL == hookURL {
			// A second webhook to the same URL would post every event twice; BTCPay never
			// shows the first one's secret again, so it has to go first.
			return "", "", ports.Errorf(ports.ECONFLICT,
				"BTCPay Server already has webhook %s posting to %s: delete it in BTCPay (store settings, Webhooks) to make a new one with a new secret.", h.ID, hookURL)
		}
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	secret = hex.EncodeToString(raw)
	req := map[string]any{
		"url": hookURL, "enabled": true, "automaticRedelivery": true,
		"authorizedEvents": map[string]any{"everything": true}, "secret": secret,
	}
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := c.call(ctx, http.MethodPost, c.storePath("webhooks"), nil, req, &created); err != nil {
		return "", "", err
	}
	if created.Secret != "" {
		secret = created.Secret
	}
	return created.ID, secret, nil
}
