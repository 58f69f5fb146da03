package clients_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/modules/clients"
	"orderdesk/ports"
)

func TestSignAndVerify(t *testing.T) {
	const secret = "whsec_test"
	body := []byte(`{"id":"1","type":"order.created","createdAt":"2026-01-02T03:04:05Z","data":{}}`)
	at := time.Unix(1_760_000_000, 0)
	header := clients.Sign(secret, at, body)
	if !strings.HasPrefix(header, "t=1760000000,v1=") || len(header) != len("t=1760000000,v1=")+64 {
		t.Fatalf("header %q", header)
	}
	tests := []struct {
		name    string
		secret  string
		header  string
		body    []byte
		now     time.Time
		tol     time.Duration
		wantErr error
	}{
		{"valid", secret, header, body, at.Add(time.Minute), 5 * time.Minute, nil},
		{"valid, no tolerance check", secret, header, body, at.Add(48 * time.Hour), 0, nil},
		{"valid among several v1", secret, "t=1760000000,v1=" + strings.Repeat("ab", 32) + "," + header[len("t=1760000000,"):], body, at, time.Minute, nil},
		{"tampered body", secret, header, append([]byte(nil), append(body[:len(body)-1], ' ', '}')...), at, time.Minute, clients.ErrSignatureMismatch},
		{"other secret", "whsec_other", header, body, at, time.Minute, clients.ErrSignatureMismatch},
		{"too old", secret, header, body, at.Add(6 * time.Minute), 5 * time.Minute, clients.ErrSignatureExpired},
		{"from the future", secret, header, body, at.Add(-6 * time.Minute), 5 * time.Minute, clients.ErrSignatureExpired},
		{"timestamp changed", secret, strings.Replace(header, "t=1760000000", "t=1760000001", 1), body, at, time.Minute, clients.ErrSignatureMismatch},
		{"empty", secret, "", body, at, time.Minute, clients.ErrSignatureFormat},
		{"no v1", secret, "t=1760000000", body, at, time.Minute, clients.ErrSignatureFormat},
		{"no t", secret, header[len("t=1760000000,"):], body, at, time.Minute, clients.ErrSignatureFormat},
		{"bad hex", secret, "t=1760000000,v1=zz", body, at, time.Minute, clients.ErrSignatureFormat},
		{"garbage", secret, "sha256=abc", body, at, time.Minute, clients.ErrSignatureFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := clients.VerifySignature(tt.secret, tt.header, tt.body, tt.now, tt.tol)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestRetrySchedule checks that the retries of a delivery job span more than the
// retry window, so that the window, not the queue, decides when to give up.
func TestRetrySchedule(t *testing.T) {
	if d := clients.RetryDelay(0); d != 10*time.Second {
		t.Errorf("first delay %v", d)
	}
	var total time.Duration
	for n := 0; n < clients.DeliveryMaxRetry; n++ {
		d := clients.RetryDelay(n)
		if n > 0 && d < clients.RetryDelay(n-1) {
			t.Errorf("delay %d (%v) shorter than the one before", n, d)
		}
		if d > time.Hour {
			t.Errorf("delay %d is %v, over the one-hour cap", n, d)
		}
		total += d
	}
	if total < clients.RetryWindow+4*time.Hour {
		t.Fatalf("retries span %v, want comfortably more than %v", total, clients.RetryWindow)
	}
	if clients.RetryDelay(1000) != time.Hour || clients.RetryDelay(-1) != 10*time.Second {
		t.Error("out-of-range retry counts")
	}
}

// TestPublishRefusesBadInput needs no store: the input is refused before it is used.
func TestPublishRefusesBadInput(t *testing.T) {
	svc := clients.NewService(nil, ports.SystemClock)
	app := uuid.Must(uuid.NewV7())
	tests := []struct {
		name, typ, subject string
		data               any
		field              string
	}{
		{"empty type", "", "s", nil, "type"},
		{"upper-case type", "Order.Created", "s", nil, "type"},
		{"type with space", "order created", "s", nil, "type"},
		{"long type", strings.Repeat("a", 101), "s", nil, "type"},
		{"long subject", "order.created", strings.Repeat("x", 201), nil, "subject"},
		{"bad UTF-8 subject", "order.created", "\xff", nil, "subject"},
		{"unmarshallable data", "order.created", "s", map[string]any{"c": make(chan int)}, "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := svc.Publish(t.Context(), app, tt.typ, tt.subject, tt.data)
			fields := ports.FieldErrorsOf(err)
			if ports.ErrorCodeOf(err) != ports.EINVALID || len(fields) != 1 || fields[0].Field != tt.field {
				t.Fatalf("err %v, want EINVALID on %s", err, tt.field)
			}
		})
	}
}

func TestValidateWebhookURL(t *testing.T) {
	for _, u := range []string{"https://bot.example.com/hook", "http://127.0.0.1:8080/x?y=1"} {
		if err := clients.ValidateWebhookURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://x.example.com", "bot.example.com/hook", "https://", "https://user:pw@x.example.com/",
		"javascript:alert(1)", "https://x.example.com/" + strings.Repeat("a", 2000)} {
		if err := clients.ValidateWebhookURL(u); ports.ErrorCodeOf(err) != ports.EINVALID {
			t.Errorf("%s accepted", u)
		}
	}
}
