package royalmail

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"orderdesk/ports"
)

// DefaultTrackingURL is Tracking API v2's root.
const DefaultTrackingURL = "https://api.royalmail.net/mailpieces/v2"

// MaxSummaries is how many mail pieces one summary call may ask about.
const MaxSummaries = 30

// TrackerConfig configures a Tracker. The credentials are the developer portal app's
// (a separate product from Click & Drop).
type TrackerConfig struct {
	// URL is the API root, DefaultTrackingURL when empty.
	URL          string
	ClientID     string
	ClientSecret string
	// HTTPClient defaults to a client with a 30-second timeout.
	HTTPClient *http.Client
	// Limiter spaces the calls; nil means none (Royal Mail states no rate; a 429 is
	// returned as a *TemporaryError).
	Limiter Limiter
}

// Tracker reads mail pieces' tracking from Royal Mail Tracking API v2.
type Tracker struct {
	base    string
	id      string
	secret  string
	hc      *http.Client
	limiter Limiter
}

var _ ports.Tracker = (*Tracker)(nil)

// NewTracker returns a Tracking API v2 client.
func NewTracker(c TrackerConfig) *Tracker {
	t := &Tracker{base: strings.TrimRight(c.URL, "/"), id: c.ClientID, secret: c.ClientSecret, hc: c.HTTPClient,
		limiter: c.Limiter}
	if t.base == "" {
		t.base = DefaultTrackingURL
	}
	if t.hc == nil {
		t.hc = &http.Client{Timeout: 30 * time.Second}
	}
	return t
}

// deliveredCodes are the events that end a piece's journey: delivered (signed, safe
// place, neighbour, collection point) or collected by the recipient.
var deliveredCodes = map[string]bool{
	"EVKSP": true, "EVKOP": true, "EVKSF": true, "EVKDN": true, "EVKLC": true,
	"EVNOC": true, "EVPLC": true,
}

// isDelivered reads the coarse status category first, then the event code.
func isDelivered(category, code string) bool {
	switch strings.ToUpper(strings.TrimSpace(category)) {
	case "DELIVERED", "COLLECTED":
		return true
	}
	return deliveredCodes[strings.ToUpper(code)]
}

// checkTrackingNumber says what is wrong with a tracking number, "" when nothing.
func checkTrackingNumber(n string) string {
	if n == "" || len(n) > 40 {
		return "A tracking number has 1 to 40 letters and digits."
	}
	for _, c := range n {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Sprintf("Tracking number %q may hold only letters and digits.", n)
		}
	}
	return ""
}

// Summaries returns the latest event of each tracking number, in the order asked. A
// number Royal Mail cannot answer for (unknown, not scanned yet) comes back with its
// Error set; more than MaxSummaries numbers is EINVALID.
func (t *Tracker) Summaries(ctx context.Context, numbers []string) ([]ports.TrackingSummary, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	if len(numbers) > MaxSummaries {
		return nil, ports.Errorf(ports.EINVALID, "Royal Mail tracks at most %d items a call, not %d.", MaxSummaries, len(numbers))
	}
	for _, n := range numbers {
		if msg := checkTrackingNumber(n); msg != "" {
			return nil, ports.Invalid(ports.Field("trackingNumbers", msg))
		}
	}
	// The numbers are letters and digits, so the list needs no escaping.
	res, err := t.do(ctx, "/summary?mailPieceId="+strings.Join(numbers, ","))
	if err != nil {
		return nil, fmt.Errorf("royal mail tracking summary: %w", err)
	}
	var body summaryResponse
	if res.status != http.StatusOK {
		// Every piece failing may come back as a 4xx whose mailPieces carry only statuses.
		if res.status == http.StatusNotFound || res.status == http.StatusBadRequest {
			if json.Unmarshal(res.body, &body) == nil && len(body.MailPieces) > 0 {
				return t.summaries(numbers, body), nil
			}
		}
		return nil, fmt.Errorf("royal mail tracking summary: %w", t.apiError(res))
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		return nil, fmt.Errorf("royal mail tracking summary: unreadable answer: %w", err)
	}
	return t.summaries(numbers, body), nil
}

func (t *Tracker) summaries(numbers []string, body summaryResponse) []ports.TrackingSummary {
	byID := map[string]summaryPiece{}
	for _, p := range body.MailPieces {
		byID[strings.ToUpper(p.MailPieceID)] = p
	}
	out := make([]ports.TrackingSummary, 0, len(numbers))
	for _, n := range numbers {
		s := ports.TrackingSummary{TrackingNumber: n}
		p, ok := byID[strings.ToUpper(n)]
		switch {
		case !ok:
			s.Error = "Royal Mail did not answer for this item."
		case p.Summary != nil && (p.Status == "" || p.Status == "200"):
			sm := p.Summary
			s.EventCode, s.EventName, s.Location = sm.LastEventCode, sm.LastEventName, sm.LastEventLocationName
			s.At = sm.LastEventDateTime.Time
			s.Category = sm.StatusCategory
			s.Delivered = isDelivered(sm.StatusCategory, sm.LastEventCode)
		default:
			e := p.Error
			if e == nil {
				e = p.Errors
			}
			if e == nil && len(body.Errors) > 0 {
				e = &body.Errors[0]
			}
			s.Error = pieceErrorText(p.Status, e)
		}
		out = append(out, s)
	}
	return out
}

// Events returns a piece's history, oldest first. A piece not scanned yet has no
// events (an empty history, no error); an unknown number is ENOTFOUND.
func (t *Tracker) Events(ctx context.Context, number string) ([]ports.TrackingSummary, error) {
	if msg := checkTrackingNumber(number); msg != "" {
		return nil, ports.Invalid(ports.Field("trackingNumber", msg))
	}
	res, err := t.do(ctx, "/"+url.PathEscape(number)+"/events")
	if err != nil {
		return nil, fmt.Errorf("royal mail tracking events of %s: %w", number, err)
	}
	if res.status != http.StatusOK {
		var e trackingErrorResponse
		if json.Unmarshal(res.body, &e) == nil && len(e.Errors) > 0 {
			switch e.Errors[0].ErrorCode {
			case "E1308", "E1284": // not scanned yet; no update until a delivery attempt
				return nil, nil
			case "E1142", "E1283":
				return nil, ports.Errorf(ports.ENOTFOUND, "Royal Mail has no tracking for %s: %s", number, sentence(e.Errors[0].ErrorDescription))
			}
		}
		return nil, fmt.Errorf("royal mail tracking events of %s: %w", number, t.apiError(res))
	}
	var body eventsResponse
	if err := json.Unmarshal(res.body, &body); err != nil {
		return nil, fmt.Errorf("royal mail tracking events of %s: unreadable answer: %w", number, err)
	}
	mp := body.MailPieces
	id := number
	if mp.MailPieceID != "" {
		id = mp.MailPieceID
	}
	out := make([]ports.TrackingSummary, 0, len(mp.Events))
	for _, e := range mp.Events {
		out = append(out, ports.TrackingSummary{TrackingNumber: id, EventCode: e.EventCode, EventName: e.EventName,
			At: e.EventDateTime.Time, Location: e.LocationName, Delivered: deliveredCodes[strings.ToUpper(e.EventCode)]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	if n := len(out); n > 0 && mp.Summary != nil {
		out[n-1].Category = mp.Summary.StatusCategory
		out[n-1].Delivered = out[n-1].Delivered || isDelivered(mp.Summary.StatusCategory, out[n-1].EventCode)
	}
	return out, nil
}

func (t *Tracker) do(ctx context.Context, path string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-IBM-Client-Id", t.id)
	req.Header.Set("X-IBM-Client-Secret", t.secret)
	req.Header.Set("X-Accept-RMG-Terms", "yes")
	req.Header.Set("Accept", "application/json")
	if t.limiter != nil {
		if err := t.limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	return send(t.hc, req, maxJSONBody)
}

// apiError maps a Tracking API failure (user guide §8.4).
func (t *Tracker) apiError(res *response) error {
	var e trackingErrorResponse
	_ = json.Unmarshal(res.body, &e)
	detail := e.MoreInformation
	if len(e.Errors) > 0 {
		detail = strings.TrimSpace(e.Errors[0].ErrorCode + " " + e.Errors[0].ErrorDescription)
	}
	switch {
	case res.status == http.StatusUnauthorized:
		return ports.Errorf(ports.EUNAVAILABLE, "Royal Mail tracking credentials were refused: check ROYALMAIL_TRACKING_CLIENT_ID and ROYALMAIL_TRACKING_CLIENT_SECRET.")
	case res.status == http.StatusTooManyRequests || res.status >= 500:
		return &TemporaryError{API: "Tracking", Status: res.status, Wait: retryAfter(res.header, time.Now()), Detail: detail}
	case res.status == http.StatusForbidden:
		return ports.Errorf(ports.EFORBIDDEN, "Royal Mail refused access to tracking (is the app subscribed to Tracking API v2?): %s", sentence(cmpDetail(detail)))
	case res.status == http.StatusBadRequest:
		return ports.Errorf(ports.EINVALID, "Royal Mail tracking refused the request: %s", sentence(cmpDetail(detail)))
	}
	return fmt.Errorf("royal mail tracking: unexpected HTTP %d: %s", res.status, clip(cmpDetail(detail), 200))
}

func cmpDetail(s string) string { return cmp.Or(s, "no reason given") }

// pieceErrorText words a per-item error of a summary, e.g. "Barcode reference X is
// not valid (E1142)."
func pieceErrorText(status string, e *trackingError) string {
	if e == nil {
		return fmt.Sprintf("Royal Mail answered %s for this item.", cmpDetail(status))
	}
	msg := cmpDetail(e.ErrorDescription)
	if e.ErrorCode != "" {
		msg += " (" + e.ErrorCode + ")"
	}
	return sentence(msg)
}

// Tracking API v2 JSON (tracking-api-v2.swagger.yaml), as far as OrderDesk reads it.

type summaryResponse struct {
	MailPieces []summaryPiece  `json:"mailPieces"`
	Errors     []trackingError `json:"errors"`
}

type summaryPiece struct {
	MailPieceID string         `json:"mailPieceId"`
	Status      string         `json:"status"`
	Summary     *pieceSummary  `json:"summary"`
	Error       *trackingError `json:"error"`
	Errors      *trackingError `json:"errors"` // the user guide's examples spell it so
}

type pieceSummary struct {
	LastEventCode         string `json:"lastEventCode"`
	LastEventName         string `json:"lastEventName"`
	LastEventDateTime     stamp  `json:"lastEventDateTime"`
	LastEventLocationName string `json:"lastEventLocationName"`
	StatusCategory        string `json:"statusCategory"`
	StatusDescription     string `json:"statusDescription"`
}

type eventsResponse struct {
	MailPieces struct {
		MailPieceID string        `json:"mailPieceId"`
		Summary     *pieceSummary `json:"summary"`
		Events      []struct {
			EventCode     string `json:"eventCode"`
			EventName     string `json:"eventName"`
			EventDateTime stamp  `json:"eventDateTime"`
			LocationName  string `json:"locationName"`
		} `json:"events"`
	} `json:"mailPieces"`
}

type trackingError struct {
	ErrorCode        string `json:"errorCode"`
	ErrorDescription string `json:"errorDescription"`
	ErrorCause       string `json:"errorCause"`
	ErrorResolution  string `json:"errorResolution"`
}

type trackingErrorResponse struct {
	HTTPCode        string          `json:"httpCode"`
	HTTPMessage     string          `json:"httpMessage"`
	MoreInformation string          `json:"moreInformation"`
	Errors          []trackingError `json:"errors"`
}
