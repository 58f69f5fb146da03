package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/clients"
	"orderdesk/ports"
)

// cliEnv is a clients service on the test database with a clock the test moves.
type cliEnv struct {
	svc *clients.Service
	mu  sync.Mutex
	now time.Time
}

func (e *cliEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *cliEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newCliEnv(t *testing.T) *cliEnv {
	t.Helper()
	e := &cliEnv{now: time.Now().UTC().Truncate(time.Second)}
	e.svc = clients.NewService(postgres.NewClientStore(testDB), e.clock)
	// The outbox relay test sees the whole outbox: leave none of our jobs behind.
	t.Cleanup(func() { mustExec(t, `DELETE FROM platform.outbox WHERE job_type = $1`, clients.JobDeliver) })
	return e
}

func cliCtx() context.Context {
	return ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "u1", Name: "alice"})
}

func (e *cliEnv) app(t *testing.T, hookURL string) *clients.Created {
	t.Helper()
	c, err := e.svc.CreateApp(cliCtx(), "app-"+uuid.NewString()[:8], hookURL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func audits(t *testing.T, appID uuid.UUID, action string) int {
	t.Helper()
	return countRows(t, `SELECT count(*) FROM platform.audit_log WHERE object_type = 'client' AND object_id = $1 AND action = $2
		AND actor = 'alice'`, appID.String(), action)
}

func TestClientKeys(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	c := e.app(t, "")
	app, err := e.svc.Authenticate(ctx, c.APIKey)
	if err != nil || app.ID != c.App.ID {
		t.Fatalf("first key: %v", err)
	}
	plain, key, err := e.svc.CreateKey(ctx, c.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	if plain == c.APIKey || key.Prefix == "" || plain[:len(key.Prefix)] != key.Prefix {
		t.Fatalf("new key %q prefix %q", plain, key.Prefix)
	}
	if _, err := e.svc.Authenticate(ctx, plain); err != nil {
		t.Fatalf("new key refused: %v", err)
	}
	keys, err := e.svc.Keys(ctx, c.App.ID)
	if err != nil || len(keys) != 2 || keys[0].ID != key.ID {
		t.Fatalf("keys %+v %v", keys, err)
	}
	if keys[0].LastUsedAt == nil {
		t.Error("last use of the new key not noted")
	}
	old := keys[1]

	// Rotation: revoke the old key; the new one goes on working.
	if err := e.svc.RevokeKey(ctx, c.App.ID, old.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, c.APIKey)
	wantCode(t, err, ports.EUNAUTHORIZED)
	if _, err := e.svc.Authenticate(ctx, plain); err != nil {
		t.Fatalf("new key refused after revoking the old: %v", err)
	}
	wantCode(t, e.svc.RevokeKey(ctx, c.App.ID, old.ID), ports.ECONFLICT)
	other := e.app(t, "")
	wantCode(t, e.svc.RevokeKey(ctx, other.App.ID, key.ID), ports.ENOTFOUND)
	wantCode(t, e.svc.RevokeKey(ctx, c.App.ID, uuid.New()), ports.ENOTFOUND)
	if _, err := e.svc.Authenticate(ctx, plain); err != nil {
		t.Fatalf("a refused revoke revoked: %v", err)
	}

	// Disabling the app refuses all its keys; enabling restores the unrevoked ones.
	if err := e.svc.SetDisabled(ctx, c.App.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, plain)
	wantCode(t, err, ports.EUNAUTHORIZED)
	if err := e.svc.SetDisabled(ctx, c.App.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, plain); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.SetDisabled(ctx, uuid.New(), true), ports.ENOTFOUND)

	for action, n := range map[string]int{"client.create": 1, "client.key_create": 1, "client.key_revoke": 1, "client.disable": 1, "client.enable": 1} {
		if got := audits(t, c.App.ID, action); got != n {
			t.Errorf("%d audit entries for %s, want %d", got, action, n)
		}
	}
}

func TestClientWebhooks(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	c := e.app(t, "https://a.example.com/hook")
	for _, bad := range []string{"", "ftp://x.example.com/", "not a url", "https://u:p@x.example.com/"} {
		_, err := e.svc.AddWebhook(ctx, c.App.ID, bad)
		wantCode(t, err, ports.EINVALID)
		if f := ports.FieldErrorsOf(err); len(f) != 1 || f[0].Field != "webhook_url" {
			t.Errorf("%q: fields %+v", bad, f)
		}
	}
	_, err := e.svc.AddWebhook(ctx, uuid.New(), "https://b.example.com/")
	wantCode(t, err, ports.ENOTFOUND)
	hook, err := e.svc.AddWebhook(ctx, c.App.ID, " https://b.example.com/hook ")
	if err != nil || hook.URL != "https://b.example.com/hook" || len(hook.Secret) < 40 || hook.Secret == c.WebhookSecret {
		t.Fatalf("add: %+v %v", hook, err)
	}
	rotated, err := e.svc.RotateWebhookSecret(ctx, c.App.ID, hook.ID)
	if err != nil || rotated.Secret == hook.Secret || rotated.SecretRotatedAt == nil {
		t.Fatalf("rotate: %+v %v", rotated, err)
	}
	_, err = e.svc.RotateWebhookSecret(ctx, uuid.New(), hook.ID)
	wantCode(t, err, ports.ENOTFOUND)
	if err := e.svc.SetWebhookActive(ctx, c.App.ID, hook.ID, false); err != nil {
		t.Fatal(err)
	}
	hooks, err := e.svc.Webhooks(ctx, c.App.ID)
	if err != nil || len(hooks) != 2 || hooks[1].Active || hooks[1].Secret != rotated.Secret {
		t.Fatalf("hooks %+v %v", hooks, err)
	}
	if err := e.svc.DeleteWebhook(ctx, c.App.ID, hooks[0].ID); err != nil {
		t.Fatal(err)
	}
	hooks, _ = e.svc.Webhooks(ctx, c.App.ID)
	if len(hooks) != 1 || hooks[0].ID != hook.ID {
		t.Fatalf("after delete %+v", hooks)
	}
	if err := e.svc.DeleteWebhook(ctx, c.App.ID, hook.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.DeleteWebhook(ctx, c.App.ID, hook.ID), ports.ENOTFOUND)
	wantCode(t, e.svc.SetWebhookActive(ctx, c.App.ID, hook.ID, true), ports.ENOTFOUND)
	for action, n := range map[string]int{"client.webhook_add": 1, "client.webhook_rotate_secret": 1, "client.webhook_deactivate": 1, "client.webhook_delete": 2} {
		if got := audits(t, c.App.ID, action); got != n {
			t.Errorf("%d audit entries for %s, want %d", got, action, n)
		}
	}
}

// hookServer is a client app's webhook endpoint that records every request and
// answers with the statuses queued in codes (200 once they run out).
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	codes    []int
	requests []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookServer(t *testing.T, codes ...int) *hookServer {
	s := &hookServer{codes: codes}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, hookRequest{header: r.Header.Clone(), body: b})
		code := http.StatusOK
		if len(s.codes) > 0 {
			code, s.codes = s.codes[0], s.codes[1:]
		}
		s.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookServer) got() []hookRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hookRequest(nil), s.requests...)
}

// deliveryJobs returns the outbox jobs of the app's deliveries, oldest first.
func deliveryJobs(t *testing.T, appID uuid.UUID) []ports.Job {
	t.Helper()
	var rows []struct {
		ID       string `db:"job_id"`
		Type     string `db:"job_type"`
		Queue    string `db:"queue"`
		Payload  []byte `db:"payload"`
		MaxRetry int    `db:"max_retry"`
	}
	err := testDB.SelectContext(context.Background(), &rows, `SELECT o.job_id, o.job_type, o.queue, o.payload, o.max_retry
		FROM platform.outbox o JOIN clients.deliveries d ON o.job_id = 'clients.deliver:' || d.id
		WHERE d.app_id = $1 ORDER BY d.seq`, appID)
	if err != nil {
		t.Fatal(err)
	}
	var out []ports.Job
	for _, r := range rows {
		out = append(out, ports.Job{ID: r.ID, Type: r.Type, Queue: r.Queue, Payload: r.Payload, MaxRetry: r.MaxRetry})
	}
	return out
}

func TestPublishJoinsTheCallersTransaction(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	c := e.app(t, "https://a.example.com/hook")
	second, err := e.svc.AddWebhook(ctx, c.App.ID, "https://b.example.com/hook")
	if err != nil {
		t.Fatal(err)
	}
	inactive, err := e.svc.AddWebhook(ctx, c.App.ID, "https://c.example.com/hook")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetWebhookActive(ctx, c.App.ID, inactive.ID, false); err != nil {
		t.Fatal(err)
	}
	errRollback := errors.New("the caller's use case failed")
	err = testDB.InTx(ctx, func(ctx context.Context) error {
		if err := e.svc.Publish(ctx, c.App.ID, clients.EventOrderCreated, "order-1", map[string]string{"number": "OD-1"}); err != nil {
			return err
		}
		if n := len(deliveryJobs(t, c.App.ID)); n != 0 {
			t.Errorf("%d jobs visible outside the transaction before commit", n)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if n := countRows(t, `SELECT count(*) FROM clients.events WHERE app_id = $1`, c.App.ID); n != 0 {
		t.Fatalf("%d events after rollback", n)
	}
	if n := len(deliveryJobs(t, c.App.ID)); n != 0 {
		t.Fatalf("%d jobs after rollback", n)
	}

	if err := testDB.InTx(ctx, func(ctx context.Context) error {
		return e.svc.Publish(ctx, c.App.ID, clients.EventOrderCreated, "order-1", map[string]string{"number": "OD-1"})
	}); err != nil {
		t.Fatal(err)
	}
	ds, next, err := e.svc.Deliveries(ctx, c.App.ID, 0, 20)
	if err != nil || len(ds) != 2 || next != 0 {
		t.Fatalf("deliveries %+v %d %v", ds, next, err)
	}
	hooks := map[uuid.UUID]bool{}
	for _, d := range ds {
		hooks[d.WebhookID] = true
		if d.Status != clients.DeliveryPending || d.EventType != clients.EventOrderCreated || d.Subject != "order-1" {
			t.Errorf("delivery %+v", d)
		}
	}
	if !hooks[second.ID] || hooks[inactive.ID] || len(hooks) != 2 {
		t.Errorf("deliveries went to %v", hooks)
	}
	jobs := deliveryJobs(t, c.App.ID)
	if len(jobs) != 2 {
		t.Fatalf("jobs %+v", jobs)
	}
	for _, j := range jobs {
		if j.Type != clients.JobDeliver || j.Queue != ports.QueueDefault || j.MaxRetry != clients.DeliveryMaxRetry {
			t.Errorf("job %+v", j)
		}
	}
	// The body is the envelope, exactly.
	out, _, err := e.svc.DeliveryDetail(ctx, c.App.ID, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out.Event.Body), &env); err != nil || len(env) != 4 ||
		string(env["type"]) != `"order.created"` || string(env["data"]) != `{"number":"OD-1"}` || env["id"] == nil || env["createdAt"] == nil {
		t.Fatalf("body %s: %v", out.Event.Body, err)
	}
	_, _, err = e.svc.DeliveryDetail(ctx, e.app(t, "").App.ID, ds[0].ID)
	wantCode(t, err, ports.ENOTFOUND)

	// A disabled app's events are recorded without deliveries; an unknown app is refused.
	if err := e.svc.SetDisabled(ctx, c.App.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Publish(ctx, c.App.ID, clients.EventOrderShipped, "order-1", nil); err != nil {
		t.Fatal(err)
	}
	if ds, _, _ := e.svc.Deliveries(ctx, c.App.ID, 0, 20); len(ds) != 2 {
		t.Errorf("%d deliveries for a disabled app's event", len(ds)-2)
	}
	wantCode(t, e.svc.Publish(ctx, uuid.New(), clients.EventOrderShipped, "x", nil), ports.ENOTFOUND)
}

// TestDeliverRetriesAndSignature runs the delivery job by hand: a 500, a 503 and then
// a 200, each attempt logged, each request signed with the webhook's secret.
func TestDeliverRetriesAndSignature(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	srv := newHookServer(t, 500, 503)
	c := e.app(t, srv.URL+"/hook")
	if err := e.svc.Publish(ctx, c.App.ID, clients.EventOrderShipped, "order-9",
		map[string]string{"trackingNumber": "RM123", "trackingUrl": "https://track.example/RM123"}); err != nil {
		t.Fatal(err)
	}
	jobs := deliveryJobs(t, c.App.ID)
	if len(jobs) != 1 {
		t.Fatalf("jobs %+v", jobs)
	}
	for i := range 2 {
		if err := e.svc.DeliverJob(ctx, jobs[0].Payload); err == nil {
			t.Fatalf("attempt %d: a failed delivery returned nil, so the queue would not retry", i+1)
		}
		e.advance(time.Minute)
	}
	if err := e.svc.DeliverJob(ctx, jobs[0].Payload); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	// Delivered: running the job again (a duplicate) sends nothing.
	if err := e.svc.DeliverJob(ctx, jobs[0].Payload); err != nil {
		t.Fatal(err)
	}
	reqs := srv.got()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if err := clients.VerifySignature(c.WebhookSecret, r.header.Get("OrderDesk-Signature"), r.body, e.clock(), 10*time.Minute); err != nil {
			t.Errorf("request %d: %v (header %q)", i, err, r.header.Get("OrderDesk-Signature"))
		}
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("User-Agent") == "" {
			t.Errorf("request %d headers %v", i, r.header)
		}
		if string(r.body) != string(reqs[0].body) {
			t.Errorf("request %d body changed between attempts", i)
		}
	}
	ds, _, _ := e.svc.Deliveries(ctx, c.App.ID, 0, 20)
	if len(ds) != 1 || ds[0].Status != clients.DeliveryDelivered || ds[0].Attempts != 3 || ds[0].LastStatusCode == nil ||
		*ds[0].LastStatusCode != 200 || ds[0].DeliveredAt == nil {
		t.Fatalf("delivery %+v", ds)
	}
	_, attempts, err := e.svc.DeliveryDetail(ctx, c.App.ID, ds[0].ID)
	if err != nil || len(attempts) != 3 {
		t.Fatalf("attempts %+v %v", attempts, err)
	}
	for i, want := range []int{500, 503, 200} {
		a := attempts[i]
		if a.StatusCode == nil || *a.StatusCode != want || (want != 200) == (a.Error == "") || a.DurationMS < 0 {
			t.Errorf("attempt %d: %+v, want status %d", i, a, want)
		}
	}

	// Resend: a new delivery of the same event (same body), audited.
	again, err := e.svc.Resend(ctx, c.App.ID, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeliverJob(ctx, clients.DeliveryJob(again.ID).Payload); err != nil {
		t.Fatal(err)
	}
	reqs = srv.got()
	if len(reqs) != 4 || string(reqs[3].body) != string(reqs[0].body) {
		t.Fatalf("resend sent %d requests", len(reqs))
	}
	if audits(t, c.App.ID, "client.webhook_resend") != 1 {
		t.Error("resend not audited")
	}
	if n := len(deliveryJobs(t, c.App.ID)); n != 2 {
		t.Errorf("%d jobs after resend, want 2", n)
	}
	_, err = e.svc.Resend(ctx, e.app(t, "").App.ID, ds[0].ID)
	wantCode(t, err, ports.ENOTFOUND)
}

// TestDeliverInOrderPerSubject: a delivery waits while an earlier one of the same
// webhook and subject is pending; other subjects do not wait.
func TestDeliverInOrderPerSubject(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	srv := newHookServer(t, 500)
	c := e.app(t, srv.URL)
	for _, ev := range []struct{ typ, subject string }{
		{clients.EventOrderCreated, "order-A"}, {clients.EventOrderPaymentUpdated, "order-A"}, {clients.EventOrderCreated, "order-B"},
	} {
		if err := e.svc.Publish(ctx, c.App.ID, ev.typ, ev.subject, map[string]string{"s": ev.subject}); err != nil {
			t.Fatal(err)
		}
	}
	jobs := deliveryJobs(t, c.App.ID)
	if len(jobs) != 3 {
		t.Fatalf("jobs %+v", jobs)
	}
	// The second event of order A runs first: it must wait, sending nothing.
	if err := e.svc.DeliverJob(ctx, jobs[1].Payload); err == nil {
		t.Fatal("the later delivery went out before the earlier one")
	}
	if len(srv.got()) != 0 {
		t.Fatal("a waiting delivery sent a request")
	}
	// Order B is not held back by order A.
	if err := e.svc.DeliverJob(ctx, jobs[2].Payload); err == nil {
		t.Fatal("order B's delivery should have met the queued 500")
	}
	if err := e.svc.DeliverJob(ctx, jobs[2].Payload); err != nil {
		t.Fatal(err)
	}
	// Order A's first event goes out, and the job sends the second, which was waiting
	// for it, at once; the second's own job then finds nothing to do.
	if err := e.svc.DeliverJob(ctx, jobs[0].Payload); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.got()); n != 4 {
		t.Fatalf("%d requests after order A's first delivery, want 4 (its follow-on sent too)", n)
	}
	if err := e.svc.DeliverJob(ctx, jobs[1].Payload); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range srv.got() {
		var env struct{ Type, Data json.RawMessage }
		_ = json.Unmarshal(r.body, &env)
		types = append(types, string(env.Type)+string(env.Data))
	}
	want := []string{`"order.created"{"s":"order-B"}`, `"order.created"{"s":"order-B"}`,
		`"order.created"{"s":"order-A"}`, `"order.payment_updated"{"s":"order-A"}`}
	if len(types) != len(want) {
		t.Fatalf("sent %v", types)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("sent %v, want %v", types, want)
		}
	}
	ds, _, _ := e.svc.Deliveries(ctx, c.App.ID, 0, 20)
	for _, d := range ds {
		if d.Status != clients.DeliveryDelivered {
			t.Errorf("delivery %s %s is %s", d.EventType, d.Subject, d.Status)
		}
	}
	// Waiting was not an attempt.
	if n := countRows(t, `SELECT count(*) FROM clients.delivery_attempts a JOIN clients.deliveries d ON d.id = a.delivery_id
		WHERE d.app_id = $1`, c.App.ID); n != 4 {
		t.Errorf("%d attempts logged, want 4", n)
	}
}

// TestDeliverGivesUpAfterTheWindow: once RetryWindow has passed, a failed attempt marks
// the delivery failed and stops the retries, and later deliveries of the subject go on.
func TestDeliverGivesUpAfterTheWindow(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	srv := newHookServer(t, 500, 500, 500)
	c := e.app(t, srv.URL)
	for range 2 {
		if err := e.svc.Publish(ctx, c.App.ID, clients.EventOrderStatusChanged, "order-C", nil); err != nil {
			t.Fatal(err)
		}
	}
	jobs := deliveryJobs(t, c.App.ID)
	if err := e.svc.DeliverJob(ctx, jobs[0].Payload); err == nil {
		t.Fatal("want a retry")
	}
	e.advance(clients.RetryWindow - time.Minute)
	if err := e.svc.DeliverJob(ctx, jobs[0].Payload); err == nil {
		t.Fatal("want a retry just before the window ends")
	}
	if err := e.svc.DeliverJob(ctx, jobs[1].Payload); err == nil {
		t.Fatal("the second delivery went out while the first was pending")
	}
	e.advance(2 * time.Minute)
	if err := e.svc.DeliverJob(ctx, jobs[0].Payload); err != nil {
		t.Fatalf("after the window: %v, want nil (given up)", err)
	}
	ds, _, _ := e.svc.Deliveries(ctx, c.App.ID, 0, 20)
	if ds[1].Status != clients.DeliveryFailed || ds[1].Attempts != 3 {
		t.Fatalf("first delivery %+v", ds[1])
	}
	if err := e.svc.DeliverJob(ctx, jobs[1].Payload); err != nil {
		t.Fatalf("second delivery after the first was given up: %v", err)
	}
}

func TestDeliverToInactiveWebhookIsCancelled(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	srv := newHookServer(t)
	c := e.app(t, srv.URL)
	if err := e.svc.Publish(ctx, c.App.ID, clients.EventOrderMessage, "order-D", map[string]string{"body": "Hello"}); err != nil {
		t.Fatal(err)
	}
	hooks, _ := e.svc.Webhooks(ctx, c.App.ID)
	if err := e.svc.SetWebhookActive(ctx, c.App.ID, hooks[0].ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeliverJob(ctx, deliveryJobs(t, c.App.ID)[0].Payload); err != nil {
		t.Fatal(err)
	}
	ds, _, _ := e.svc.Deliveries(ctx, c.App.ID, 0, 20)
	if len(srv.got()) != 0 || ds[0].Status != clients.DeliveryCancelled {
		t.Fatalf("sent %d, status %s", len(srv.got()), ds[0].Status)
	}
	_, err := e.svc.Resend(ctx, c.App.ID, ds[0].ID)
	wantCode(t, err, ports.ECONFLICT)
	// A malformed payload is dropped, not retried for ever.
	if err := e.svc.DeliverJob(ctx, []byte(`{"deliveryId": 12}`)); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeliverJob(ctx, clients.DeliveryJob(uuid.New()).Payload); err != nil {
		t.Fatal(err)
	}
}

func TestDeliveriesPaging(t *testing.T) {
	e := newCliEnv(t)
	ctx := cliCtx()
	c := e.app(t, "https://a.example.com/")
	for range 5 {
		if err := e.svc.Publish(ctx, c.App.ID, clients.EventOrderCreated, uuid.NewString(), nil); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	before := int64(0)
	for page := 0; ; page++ {
		ds, next, err := e.svc.Deliveries(ctx, c.App.ID, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			seen = append(seen, d.Seq)
		}
		if next == 0 {
			break
		}
		before = next
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 5 {
		t.Fatalf("saw %v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first: %v", seen)
		}
	}
}
