package royalmail_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"orderdesk/adapters/royalmail"
	"orderdesk/adapters/royalmail/rmtest"
	"orderdesk/ports"
)

func TestSummaries(t *testing.T) {
	rm := rmtest.New(t)
	day := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	rm.SetTracking("TT000000014GB",
		rmtest.Event{Code: "EVKSP", Name: "Delivered", Location: "Leeds DO", At: day.Add(30 * time.Hour)},
		rmtest.Event{Code: "EVDAC", Name: "Item received at mail centre", Location: "Leeds MC", At: day.Add(8 * time.Hour)})
	rm.SetTracking("TT000000028GB", rmtest.Event{Code: "EVGPD", Name: "Out for delivery", At: day.Add(9 * time.Hour)})
	rm.SetTracking("TT000000031GB") // known, no scan yet
	tr := rm.Tracker()
	got, err := tr.Summaries(t.Context(), []string{"TT000000014GB", "TT000000028GB", "TT000000031GB", "XX999999999GB"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d summaries", len(got))
	}
	d := got[0]
	if d.TrackingNumber != "TT000000014GB" || d.EventCode != "EVKSP" || !d.Delivered || d.Category != "DELIVERED" ||
		!d.At.Equal(day.Add(30*time.Hour)) || d.Location != "Leeds DO" || d.Error != "" {
		t.Errorf("delivered piece %+v", d)
	}
	if m := got[1]; m.Delivered || m.Category != "IN TRANSIT" || m.EventName != "Out for delivery" || m.Error != "" {
		t.Errorf("moving piece %+v", m)
	}
	if n := got[2]; n.Error == "" || !strings.Contains(n.Error, "E1308") || n.Delivered {
		t.Errorf("unscanned piece %+v", n)
	}
	if u := got[3]; !strings.Contains(u.Error, "E1142") || !strings.Contains(u.Error, "XX999999999GB") {
		t.Errorf("unknown piece %+v", u)
	}
	if c := rm.Counts(); c.Summaries != 1 || c.Invalid != 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestSummariesRefusesMoreThan30(t *testing.T) {
	rm := rmtest.New(t)
	numbers := make([]string, 31)
	for i := range numbers {
		numbers[i] = royalmail.S10("TT", i+1)
	}
	_, err := rm.Tracker().Summaries(t.Context(), numbers)
	codeOf(t, err, ports.EINVALID)
	_, err = rm.Tracker().Summaries(t.Context(), []string{"TT1,TT2"})
	codeOf(t, err, ports.EINVALID)
	if c := rm.Counts(); c.Summaries != 0 {
		t.Errorf("called Royal Mail: %+v", c)
	}
	got, err := rm.Tracker().Summaries(t.Context(), numbers[:30])
	if err != nil || len(got) != 30 {
		t.Fatalf("30 numbers: %d answers, %v", len(got), err)
	}
}

func TestEvents(t *testing.T) {
	rm := rmtest.New(t)
	day := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	rm.SetTracking("TT000000014GB",
		rmtest.Event{Code: "EVAIP", Name: "Despatched by sender", At: day},
		rmtest.Event{Code: "EVNOC", Name: "Collected from delivery office", Location: "Leeds DO", At: day.Add(50 * time.Hour)},
		rmtest.Event{Code: "EVDAC", Name: "Item received at mail centre", At: day.Add(8 * time.Hour)})
	rm.SetTracking("TT000000028GB")
	tr := rm.Tracker()
	evs, err := tr.Events(t.Context(), "TT000000014GB")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range evs {
		codes = append(codes, e.EventCode)
	}
	if strings.Join(codes, ",") != "EVAIP,EVDAC,EVNOC" {
		t.Fatalf("events %v, want oldest first", codes)
	}
	if evs[0].Delivered || !evs[2].Delivered || evs[2].Category != "DELIVERED" || evs[2].Location != "Leeds DO" {
		t.Errorf("events %+v", evs)
	}
	evs, err = tr.Events(t.Context(), "TT000000028GB")
	if err != nil || len(evs) != 0 {
		t.Errorf("unscanned piece: %v, %v", evs, err)
	}
	_, err = tr.Events(t.Context(), "XX999999999GB")
	codeOf(t, err, ports.ENOTFOUND)
}

func TestTrackerFaults(t *testing.T) {
	rm := rmtest.New(t)
	rm.SetTracking("TT000000014GB")
	bad := royalmail.NewTracker(royalmail.TrackerConfig{URL: rm.TrackingURL, ClientID: rmtest.ClientID, ClientSecret: "nope"})
	_, err := bad.Summaries(t.Context(), []string{"TT000000014GB"})
	codeOf(t, err, ports.EUNAVAILABLE)

	rm.Throttle(1, 3*time.Second)
	_, err = rm.Tracker().Events(t.Context(), "TT000000014GB")
	var te *royalmail.TemporaryError
	if !errors.As(err, &te) || te.Status != 429 || te.RetryAfter() != 3*time.Second || !strings.Contains(te.Detail, "E0010") {
		t.Fatalf("err %v, want a temporary 429 E0010 with Retry-After 3s", err)
	}
	rm.SetDown(true)
	_, err = rm.Tracker().Summaries(t.Context(), []string{"TT000000014GB"})
	if !errors.As(err, &te) || te.Status != 503 {
		t.Fatalf("err %v, want a temporary 503", err)
	}
}
