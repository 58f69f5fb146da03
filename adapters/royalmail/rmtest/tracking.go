package rmtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The Tracking API v2 JSON the fake writes (tracking-api-v2.swagger.yaml; errors as
// in the user guide §8).

type trErr struct {
	ErrorCode        string `json:"errorCode"`
	ErrorDescription string `json:"errorDescription"`
	ErrorCause       string `json:"errorCause,omitempty"`
	ErrorResolution  string `json:"errorResolution,omitempty"`
}

type trErrorResponse struct {
	HTTPCode        string  `json:"httpCode"`
	HTTPMessage     string  `json:"httpMessage"`
	MoreInformation string  `json:"moreInformation,omitempty"`
	Errors          []trErr `json:"errors,omitempty"`
}

func trackingError(status int, message, code, description, cause string) trErrorResponse {
	return trErrorResponse{HTTPCode: fmt.Sprint(status), HTTPMessage: message,
		Errors: []trErr{{ErrorCode: code, ErrorDescription: description, ErrorCause: cause, ErrorResolution: "Please try again later"}}}
}

type trLink struct {
	Href        string `json:"href"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

type trSummary struct {
	UniqueItemID          string `json:"uniqueItemId,omitempty"`
	OneDBarcode           string `json:"oneDBarcode"`
	ProductID             string `json:"productId"`
	ProductName           string `json:"productName"`
	LastEventCode         string `json:"lastEventCode"`
	LastEventName         string `json:"lastEventName"`
	LastEventDateTime     string `json:"lastEventDateTime"`
	LastEventLocationName string `json:"lastEventLocationName,omitempty"`
	StatusDescription     string `json:"statusDescription"`
	StatusCategory        string `json:"statusCategory"`
	SummaryLine           string `json:"summaryLine"`
}

type trPiece struct {
	MailPieceID      string             `json:"mailPieceId"`
	Status           string             `json:"status"`
	CarrierShortName string             `json:"carrierShortName,omitempty"`
	CarrierFullName  string             `json:"carrierFullName,omitempty"`
	Summary          *trSummary         `json:"summary,omitempty"`
	Links            map[string]*trLink `json:"links,omitempty"`
	Error            *trErr             `json:"error,omitempty"`
}

type trEvent struct {
	EventCode     string `json:"eventCode"`
	EventName     string `json:"eventName"`
	EventDateTime string `json:"eventDateTime"`
	LocationName  string `json:"locationName,omitempty"`
}

type trEventsPiece struct {
	MailPieceID      string             `json:"mailPieceId"`
	CarrierShortName string             `json:"carrierShortName"`
	CarrierFullName  string             `json:"carrierFullName"`
	Summary          *trSummary         `json:"summary"`
	Events           []trEvent          `json:"events"`
	Links            map[string]*trLink `json:"links"`
}

// deliveredCodes end a piece's journey (NOTES §8).
var deliveredCodes = map[string]bool{"EVKSP": true, "EVKOP": true, "EVKSF": true, "EVKDN": true, "EVKLC": true, "EVNOC": true, "EVPLC": true}

// Per-item errors (user guide tables 13 and 14).
func unknownPiece(id string) trErr {
	return trErr{ErrorCode: "E1142", ErrorDescription: fmt.Sprintf("Barcode reference %s is not valid", id),
		ErrorCause: "A mail item with that barcode cannot be located", ErrorResolution: "Check barcode and resubmit"}
}

func notScanned() trErr {
	return trErr{ErrorCode: "E1308", ErrorDescription: "The service used to send this item only provides an update once we have received the item in our network. Please allow up to 3 working days for delivery, depending on the service used.",
		ErrorCause: "An externally visible scan/event has not occurred on the mail item", ErrorResolution: "Please try again later"}
}

func summaryOf(id string, events []Event) *trSummary {
	last := events[len(events)-1]
	category, description := "IN TRANSIT", "It's on its way"
	if deliveredCodes[last.Code] {
		category, description = "DELIVERED", "It's been delivered"
	}
	return &trSummary{UniqueItemID: id, OneDBarcode: id, ProductID: "TPN", ProductName: "Royal Mail Tracked 24",
		LastEventCode: last.Code, LastEventName: last.Name, LastEventDateTime: last.At.Format(time.RFC3339),
		LastEventLocationName: last.Location, StatusDescription: description, StatusCategory: category,
		SummaryLine: fmt.Sprintf("Item %s: %s on %s.", id, last.Name, last.At.Format("2006-01-02"))}
}

func (s *Server) serveTracking(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, "tracking") {
		return
	}
	if r.Header.Get("X-IBM-Client-Id") != ClientID || r.Header.Get("X-IBM-Client-Secret") != ClientSecret {
		s.mu.Lock()
		s.counts.Unauthorized++
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, trErrorResponse{HTTPCode: "401", HTTPMessage: "Unauthorized", MoreInformation: "Client id not registered"})
		return
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/mailpieces/v2")
	var key, id string
	switch {
	case r.Method == http.MethodGet && path == "/summary":
		key = "GET /summary"
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/events") && strings.Count(path, "/") == 2:
		key = "GET /{id}/events"
		id, _ = url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/events"))
	default:
		s.report("rmtest: Tracking API has no %s %s (or the fake does not offer it)", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, trErrorResponse{HTTPCode: "404", HTTPMessage: "Not Found", MoreInformation: "API not found for requested URI"})
		return
	}
	op := s.tr[key]
	in, err := op.checkRequest(r, map[string]string{"mailPieceId": id})
	if err != nil {
		s.mu.Lock()
		s.counts.Invalid++
		s.mu.Unlock()
		s.report("rmtest: %s %s does not match the Tracking spec: %v", r.Method, r.URL, err)
		writeJSON(w, http.StatusBadRequest, trackingError(400, "Bad Request", "E0004", "Failed schema validation",
			"The submitted request was not valid against the published schema definition"))
		return
	}
	if key == "GET /summary" {
		s.send(w, op, in, s.summaries(r.URL.Query().Get("mailPieceId")))
	} else {
		s.send(w, op, in, s.events(id))
	}
}

func (s *Server) summaries(list string) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Summaries++
	ids := strings.Split(list, ",")
	if len(ids) > 30 {
		return jsonReply(http.StatusBadRequest, trackingError(400, "Bad Request", "E0013", "Maximum parameters permitted in URL exceeded", ""))
	}
	pieces := make([]trPiece, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		p := trPiece{MailPieceID: id, Status: "404"}
		events, known := s.tracking[strings.ToUpper(id)]
		switch {
		case !known:
			e := unknownPiece(id)
			p.Error = &e
		case len(events) == 0:
			e := notScanned()
			p.Error = &e
		default:
			p.Status, p.CarrierShortName, p.CarrierFullName = "200", "RM", "Royal Mail Group Ltd"
			p.Summary = summaryOf(id, events)
			p.Links = map[string]*trLink{"events": {Href: "/mailpieces/v2/" + id + "/events", Title: "Events", Description: "Get events"}}
		}
		pieces = append(pieces, p)
	}
	return jsonReply(http.StatusOK, map[string]any{"mailPieces": pieces})
}

func (s *Server) events(id string) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Events++
	events, known := s.tracking[strings.ToUpper(id)]
	switch {
	case !known:
		return jsonReply(http.StatusNotFound, trErrorResponse{HTTPCode: "404", HTTPMessage: "Not Found", Errors: []trErr{unknownPiece(id)}})
	case len(events) == 0:
		return jsonReply(http.StatusNotFound, trErrorResponse{HTTPCode: "404", HTTPMessage: "Not Found", Errors: []trErr{notScanned()}})
	}
	// Royal Mail lists the latest scan first.
	out := make([]trEvent, 0, len(events))
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		out = append(out, trEvent{EventCode: e.Code, EventName: e.Name, EventDateTime: e.At.Format(time.RFC3339), LocationName: e.Location})
	}
	return jsonReply(http.StatusOK, map[string]any{"mailPieces": trEventsPiece{
		MailPieceID: id, CarrierShortName: "RM", CarrierFullName: "Royal Mail Group Ltd", Summary: summaryOf(id, events), Events: out,
		Links: map[string]*trLink{"summary": {Href: "/mailpieces/v2/summary?mailPieceId=" + id, Title: "Summary", Description: "Get summary"}},
	}})
}
