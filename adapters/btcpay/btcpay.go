// Package btcpay is the payment gateway on BTCPay Server's Greenfield API. One client
// works with 1.x (up to 1.13.x) and 2.x servers: it only uses the store-scoped routes
// (/api/v1/stores/{storeId}/...), which every version has, and reads both shapes of
// payment methods (1.x paymentMethod/cryptoCode "BTC", "BTC-LightningNetwork"; 2.x
// paymentMethodId/currency "BTC-CHAIN", "BTC-LN"). Amounts are decimal strings on the
// wire and integers here (pence, satoshis), converted exactly without floats.
//
// Errors follow the ports contract: a 404 is ENOTFOUND, a 400 is EINVALID with BTCPay's
// messages, a refused API key (401/403) is EUNAVAILABLE saying so; 5xx, 429 and network
// failures are plain errors, which the job queue retries.
package btcpay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderdesk/ports"
)

// Config is what the client needs: the server's URL, an API key of the store and the
// store's id, and the secret of the store webhook that posts to OrderDesk.
type Config struct {
	URL           string
	APIKey        string
	StoreID       string
	WebhookSecret string
	// HTTPClient defaults to a client with a one-minute backstop timeout; callers'
	// contexts set the real deadlines.
	HTTPClient *http.Client
	// Clock defaults to the system clock; it tells whether a New invoice found for an
	// order is still payable.
	Clock ports.Clock
}

// Client talks to one store of a BTCPay Server.
type Client struct {
	base    string
	key     string
	store   string
	secret  string
	http    *http.Client
	clock   ports.Clock
	mu      sync.Mutex
	version *serverVersion // learnt from /server/info the first time it is needed
}

var _ ports.PaymentGateway = (*Client)(nil)

// maxResponse bounds what the client reads of a response: an invoice with its payment
// methods is a few kilobytes, an invoice list a few hundred.
const maxResponse = 4 << 20

// New returns a client of cfg's store.
func New(cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	clock := cfg.Clock
	if clock == nil {
		clock = ports.SystemClock
	}
	return &Client{base: strings.TrimRight(cfg.URL, "/"), key: cfg.APIKey, store: cfg.StoreID, secret: cfg.WebhookSecret,
		http: hc, clock: clock}
}

// Name is "btcpay".
func (c *Client) Name() string { return "btcpay" }

// storePath is the path of a store-scoped route: storePath("invoices", id, "status").
func (c *Client) storePath(parts ...string) string {
	var b strings.Builder
	b.WriteString("/api/v1/stores/")
	b.WriteString(url.PathEscape(c.store))
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// call sends one request and decodes a 2xx JSON answer into out (when out is not nil).
// Other answers become errors as the package comment says.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("btcpay: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("btcpay: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "token "+c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("btcpay: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("btcpay: %s %s: read the answer: %w", method, path, err)
	}
	if len(data) > maxResponse {
		return fmt.Errorf("btcpay: %s %s: the answer is larger than %d bytes", method, path, maxResponse)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("btcpay: %s %s: decode the answer: %w", method, path, err)
		}
		return nil
	}
	return statusError(method, path, resp.StatusCode, data)
}

// problem is BTCPay's ProblemDetails; a 400 may instead carry ValidationProblemDetails,
// an array of {path, message}.
type problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type validationProblem []struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// apiError is an answer other than 2xx: the *ports.Error (or plain error) callers see,
// with the status and BTCPay's message kept for Check.
type apiError struct {
	status int
	detail string
	err    error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

func statusError(method, path string, status int, body []byte) error {
	var p problem
	_ = json.Unmarshal(body, &p)
	detail := p.Message
	if detail == "" {
		detail = p.Code
	}
	return &apiError{status: status, detail: detail, err: portsError(method, path, status, detail, body)}
}

func portsError(method, path string, status int, detail string, body []byte) error {
	switch {
	case status == http.StatusNotFound:
		if detail == "" {
			detail = "not found"
		}
		return ports.Errorf(ports.ENOTFOUND, "BTCPay Server: %s.", strings.TrimSuffix(detail, "."))
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		var vp validationProblem
		if json.Unmarshal(body, &vp) == nil && len(vp) > 0 {
			e := &ports.Error{Code: ports.EINVALID, Message: "BTCPay Server refused the request."}
			for _, f := range vp {
				e.Fields = append(e.Fields, ports.Field(f.Path, f.Message))
			}
			return e
		}
		if detail == "" {
			detail = "the request is not valid"
		}
		return ports.Errorf(ports.EINVALID, "BTCPay Server refused the request: %s.", strings.TrimSuffix(detail, "."))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		if detail == "" {
			detail = http.StatusText(status)
		}
		return ports.Errorf(ports.EUNAVAILABLE,
			"BTCPay Server refused the API key for %s %s (HTTP %d: %s). `orderdesk btcpay check` tells what the key lacks.",
			method, path, status, strings.TrimSuffix(detail, "."))
	}
	msg := detail
	if msg == "" {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
	}
	return fmt.Errorf("btcpay: %s %s: status %d: %s", method, path, status, msg)
}

// serverVersion is a BTCPay Server version, as /server/info gives it ("2.4.1",
// "1.13.7.0", "v1.0.5").
type serverVersion struct {
	text                string
	major, minor, patch int
}

func parseVersion(s string) serverVersion {
	v := serverVersion{text: s}
	nums := []*int{&v.major, &v.minor, &v.patch}
	rest := strings.TrimPrefix(strings.TrimSpace(s), "v")
	for i := 0; i < len(nums) && rest != ""; i++ {
		part, tail, _ := strings.Cut(rest, ".")
		end := 0
		for end < len(part) && isDigit(part[end]) {
			end++
		}
		n, err := strconv.Atoi(part[:end])
		if err != nil {
			break
		}
		*nums[i] = n
		if end < len(part) {
			break // "0-rc1": stop at the suffix
		}
		rest = tail
	}
	return v
}

// atLeast reports whether v is major.minor.patch or later.
func (v serverVersion) atLeast(major, minor, patch int) bool {
	if v.major != major {
		return v.major > major
	}
	if v.minor != minor {
		return v.minor > minor
	}
	return v.patch >= patch
}

// serverInfo is GET /api/v1/server/info.
type serverInfo struct {
	Version                 string   `json:"version"`
	SupportedPaymentMethods []string `json:"supportedPaymentMethods"`
	FullySynched            bool     `json:"fullySynched"`
}

func (c *Client) serverInfo(ctx context.Context) (*serverInfo, error) {
	var info serverInfo
	if err := c.call(ctx, http.MethodGet, "/api/v1/server/info", nil, nil, &info); err != nil {
		return nil, err
	}
	v := parseVersion(info.Version)
	c.mu.Lock()
	c.version = &v
	c.mu.Unlock()
	return &info, nil
}

// knownVersion returns the server's version, asking it once.
func (c *Client) knownVersion(ctx context.Context) (serverVersion, error) {
	c.mu.Lock()
	v := c.version
	c.mu.Unlock()
	if v != nil {
		return *v, nil
	}
	if _, err := c.serverInfo(ctx); err != nil {
		return serverVersion{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.version, nil
}
