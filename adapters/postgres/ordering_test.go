package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/ordering"
	"orderdesk/modules/payments"
	"orderdesk/ports"
)

// ordEnv holds an order store and a shipping method to place fixture orders with.
type ordEnv struct {
	store  *postgres.OrderStore
	method *ordering.ShippingMethod
}

func newOrdEnv(t *testing.T) *ordEnv {
	t.Helper()
	s := postgres.NewOrderStore(testDB)
	ts := now()
	m := &ordering.ShippingMethod{ID: uuid.Must(uuid.NewV7()), Name: "Test post", ServiceCode: "TPN24", PackageFormat: ordering.FormatParcel,
		PriceMinor: 350, MaxWeightGrams: 2000, Active: true, CreatedAt: ts, UpdatedAt: ts}
	if err := s.CreateShippingMethod(context.Background(), m, testAudit("shipping_method.create", m.ID.String())); err != nil {
		t.Fatal(err)
	}
	return &ordEnv{store: s, method: m}
}

// order inserts an order of app for identity, placed at at, in status st.
func (e *ordEnv) order(t *testing.T, app uuid.UUID, identity string, st ordering.Status, at time.Time) *ordering.Order {
	t.Helper()
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	o := &ordering.Order{ID: id, AppID: app, IdentityRef: identity, Status: st,
		ShippingMethodID: e.method.ID, ShippingName: e.method.Name, ShippingServiceCode: e.method.ServiceCode,
		PackageFormat: string(e.method.PackageFormat), SubtotalMinor: 1000, ShippingMinor: 350, TotalMinor: 1350, Currency: "GBP",
		WeightGrams: 100, AddressSealed: []byte("sealed"), CreatedAt: at, UpdatedAt: at,
		Lines: []ordering.Line{{OrderID: id, LineNo: 1, ProductID: uuid.New(), Name: "Tea", UnitPriceMinor: 500, Quantity: 2,
			WeightUnit: "unit", UnitWeightGrams: 50, LineTotalMinor: 1000}}}
	h := ordering.HistoryEntry{OrderID: id, Status: st, At: at, ActorKind: "client", Actor: "test app"}
	if err := e.store.CreateOrder(ctx, o, h); err != nil {
		t.Fatal(err)
	}
	return o
}

func orderNumbers(os []ordering.Order) []string {
	out := []string{}
	for _, o := range os {
		out = append(out, o.Number)
	}
	return out
}

func wantNumbers(t *testing.T, what string, got []ordering.Order, want ...*ordering.Order) {
	t.Helper()
	w := []string{}
	for _, o := range want {
		w = append(w, o.Number)
	}
	if g := orderNumbers(got); fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("%s: got %v, want %v", what, g, w)
	}
}

func TestOrderingStaffListFilters(t *testing.T) {
	ctx := context.Background()
	e := newOrdEnv(t)
	appA, appB := uuid.New(), uuid.New()
	// Identities unique to this run, so that -count=N runs do not see each other.
	tag := uuid.NewString()[:8]
	alice, bob := "alice-"+tag, "bob-"+tag
	base := time.Date(2003, 3, 10, 12, 0, 0, 0, time.UTC)
	o1 := e.order(t, appA, alice, ordering.StatusPendingPayment, base)
	o2 := e.order(t, appA, bob, ordering.StatusProcessing, base.Add(24*time.Hour))
	o3 := e.order(t, appA, alice, ordering.StatusProcessing, base.Add(48*time.Hour))
	o4 := e.order(t, appB, alice, ordering.StatusCancelled, base.Add(72*time.Hour))
	a := &appA
	list := func(f ordering.StaffFilter) []ordering.Order {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 100
		}
		os, err := e.store.ListStaffOrders(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return os
	}
	wantNumbers(t, "app A, newest first", list(ordering.StaffFilter{AppID: a}), o3, o2, o1)
	wantNumbers(t, "app B", list(ordering.StaffFilter{AppID: &appB}), o4)
	wantNumbers(t, "status", list(ordering.StaffFilter{AppID: a, Status: ordering.StatusProcessing}), o3, o2)
	wantNumbers(t, "identity", list(ordering.StaffFilter{AppID: a, IdentityRef: alice}), o3, o1)
	wantNumbers(t, "identity is exact", list(ordering.StaffFilter{AppID: a, IdentityRef: "ali"}))
	wantNumbers(t, "number", list(ordering.StaffFilter{Number: o2.Number}), o2)
	wantNumbers(t, "from", list(ordering.StaffFilter{AppID: a, From: base.Add(24 * time.Hour)}), o3, o2)
	wantNumbers(t, "to is exclusive", list(ordering.StaffFilter{AppID: a, To: base.Add(24 * time.Hour)}), o1)
	wantNumbers(t, "ids", list(ordering.StaffFilter{IDs: []uuid.UUID{o1.ID, o4.ID}}), o4, o1)
	wantNumbers(t, "ids and app", list(ordering.StaffFilter{AppID: a, IDs: []uuid.UUID{o1.ID, o4.ID}}), o1)
	wantNumbers(t, "identity with SQL in it", list(ordering.StaffFilter{IdentityRef: "' OR 1=1 --"}))

	counts, err := e.store.CountByStatus(ctx, ordering.StaffFilter{AppID: a, Status: ordering.StatusCancelled})
	if err != nil {
		t.Fatal(err)
	}
	want := map[ordering.Status]int{ordering.StatusPendingPayment: 1, ordering.StatusProcessing: 2}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v (the status filter is ignored)", counts, want)
	}
	counts, _ = e.store.CountByStatus(ctx, ordering.StaffFilter{IdentityRef: alice, From: base, To: base.Add(96 * time.Hour)})
	want = map[ordering.Status]int{ordering.StatusPendingPayment: 1, ordering.StatusProcessing: 1, ordering.StatusCancelled: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("alice's counts %v, want %v", counts, want)
	}
}

func TestOrderingStaffListKeysetPaging(t *testing.T) {
	ctx := context.Background()
	e := newOrdEnv(t)
	app := uuid.New()
	base := time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []*ordering.Order
	for i := 0; i < 7; i++ {
		// Pairs placed at the same instant: the id breaks the tie.
		all = append(all, e.order(t, app, "p", ordering.StatusPendingPayment, base.Add(time.Duration(i/2)*time.Minute)))
	}
	var seen []ordering.Order
	f := ordering.StaffFilter{AppID: &app, Limit: 3}
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		os, err := e.store.ListStaffOrders(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, os...)
		if len(os) < f.Limit {
			break
		}
		last := os[len(os)-1]
		f.After = &ordering.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	// Newest first, ties by id descending: uuid v7 ids grow, so the reverse of insertion.
	want := make([]*ordering.Order, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i])
	}
	wantNumbers(t, "all pages", seen, want...)
}

func TestOrderingUpdateOrderWritesAudit(t *testing.T) {
	ctx := context.Background()
	e := newOrdEnv(t)
	o := e.order(t, uuid.New(), "audit", ordering.StatusPendingPayment, now())
	a := ports.AuditEntry{ActorKind: "staff", Actor: "tester", Action: "order.cancel", ObjectType: "order", ObjectID: o.ID.String(), Detail: "why"}
	got, err := e.store.UpdateOrder(ctx, o.ID, func(o *ordering.Order) (ordering.Change, error) {
		h, err := o.Move(ordering.StatusCancelled, ports.Actor{Kind: ports.ActorStaff, Name: "tester"}, "why", now())
		return ordering.Change{History: &h, Audit: &a}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ordering.StatusCancelled || len(got.History) != 2 {
		t.Fatalf("status %s, %d history entries", got.Status, len(got.History))
	}
	if n := countRows(t, `SELECT count(*) FROM platform.audit_log WHERE action = 'order.cancel' AND object_id = $1`, o.ID.String()); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	// A refused change writes nothing: no status, no history, no audit.
	boom := errors.New("refused")
	_, err = e.store.UpdateOrder(ctx, o.ID, func(o *ordering.Order) (ordering.Change, error) {
		o.Status = ordering.StatusRefunded
		return ordering.Change{Audit: &a}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	after, _ := e.store.Order(ctx, o.ID)
	if after.Status != ordering.StatusCancelled || len(after.History) != 2 {
		t.Fatalf("after a refused change: %s, %d entries", after.Status, len(after.History))
	}
	if n := countRows(t, `SELECT count(*) FROM platform.audit_log WHERE object_id = $1`, o.ID.String()); n != 1 {
		t.Fatalf("%d audit rows after a refused change", n)
	}
	// A change without an audit entry (a client app's, the system's) writes none.
	if _, err := e.store.UpdateOrder(ctx, o.ID, func(o *ordering.Order) (ordering.Change, error) {
		h, err := o.Move(ordering.StatusRefunded, ports.System, "", now())
		return ordering.Change{History: &h}, err
	}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, `SELECT count(*) FROM platform.audit_log WHERE object_id = $1`, o.ID.String()); n != 1 {
		t.Fatalf("%d audit rows after a system change", n)
	}
}

func TestOrderingMessagesAndConversations(t *testing.T) {
	ctx := context.Background()
	e := newOrdEnv(t)
	mustExec(t, `DELETE FROM ordering.messages`)
	base := time.Date(2005, 5, 5, 10, 0, 0, 0, time.UTC)
	app := uuid.New()
	waiting1 := e.order(t, app, "w1", ordering.StatusProcessing, base)
	answered := e.order(t, app, "an", ordering.StatusProcessing, base)
	waiting2 := e.order(t, app, "w2", ordering.StatusShipped, base)
	e.order(t, app, "silent", ordering.StatusProcessing, base)
	msg := func(o *ordering.Order, kind string, at time.Time, audit *ports.AuditEntry) {
		t.Helper()
		m := &ordering.Message{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, AuthorKind: kind, Author: kind, Body: kind + " says hi", CreatedAt: at}
		if err := e.store.AddMessage(ctx, m, audit); err != nil {
			t.Fatal(err)
		}
	}
	msg(waiting1, "customer", base.Add(1*time.Minute), nil)
	msg(answered, "customer", base.Add(2*time.Minute), nil)
	reply := ports.AuditEntry{ActorKind: "staff", Actor: "tester", Action: "order.reply", ObjectType: "order", ObjectID: answered.ID.String()}
	msg(answered, "staff", base.Add(3*time.Minute), &reply)
	msg(waiting2, "customer", base.Add(4*time.Minute), nil)
	msg(waiting2, "staff", base.Add(5*time.Minute), nil)
	msg(waiting2, "customer", base.Add(6*time.Minute), nil)

	if n := countRows(t, `SELECT count(*) FROM platform.audit_log WHERE action = 'order.reply' AND object_id = $1`, answered.ID.String()); n != 1 {
		t.Fatalf("%d audit rows for the reply", n)
	}
	if n := countRows(t, `SELECT count(*) FROM platform.audit_log WHERE object_id = $1`, waiting1.ID.String()); n != 0 {
		t.Fatalf("%d audit rows for a customer's message", n)
	}
	cs, err := e.store.OpenConversations(ctx, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].OrderID != waiting2.ID || cs[1].OrderID != waiting1.ID {
		t.Fatalf("open conversations %+v", cs)
	}
	if cs[0].Messages != 3 || cs[0].Number != waiting2.Number || cs[0].IdentityRef != "w2" || !cs[0].LastAt.Equal(base.Add(6*time.Minute)) {
		t.Fatalf("conversation %+v", cs[0])
	}
	page, err := e.store.OpenConversations(ctx, &ordering.Cursor{CreatedAt: cs[0].LastAt, ID: cs[0].OrderID}, 10)
	if err != nil || len(page) != 1 || page[0].OrderID != waiting1.ID {
		t.Fatalf("second page %+v, %v", page, err)
	}
	// A message for an order that does not exist is refused and leaves no audit row.
	ghost := uuid.New()
	a := ports.AuditEntry{ActorKind: "staff", Action: "order.reply", ObjectType: "order", ObjectID: ghost.String()}
	if err := e.store.AddMessage(ctx, &ordering.Message{ID: uuid.New(), OrderID: ghost, AuthorKind: "staff", Body: "x", CreatedAt: now()}, &a); err == nil {
		t.Fatal("message for a missing order stored")
	}
	if n := countRows(t, `SELECT count(*) FROM platform.audit_log WHERE object_id = $1`, ghost.String()); n != 0 {
		t.Fatalf("%d audit rows for a refused message", n)
	}
}

func TestPaymentStatusesByOrder(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewPaymentStore(testDB)
	paid, pending, none := uuid.New(), uuid.New(), uuid.New()
	for id, st := range map[uuid.UUID]string{paid: "paid", pending: "pending"} {
		mustExec(t, `INSERT INTO payments.invoices (order_id, order_number, provider, status, amount_minor) VALUES ($1, 'OD-1', 'sandbox', $2, 100)`, id, st)
	}
	t.Cleanup(func() {
		mustExec(t, `DELETE FROM payments.invoices WHERE order_id = ANY($1)`, []uuid.UUID{paid, pending})
	})
	got, err := s.Statuses(ctx, []uuid.UUID{paid, pending, none})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[paid] != payments.StatusPaid || got[pending] != payments.StatusPending {
		t.Fatalf("statuses %v", got)
	}
	ids, err := s.OrderIDsWithStatus(ctx, payments.StatusPaid)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, id := range ids {
		found = found || id == paid
		if id == pending {
			t.Fatal("a pending invoice listed as paid")
		}
	}
	if !found {
		t.Fatalf("paid order missing from %v", ids)
	}
}
