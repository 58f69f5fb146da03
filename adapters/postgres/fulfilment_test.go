package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/catalog"
	"orderdesk/modules/fulfilment"
	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

func newShipment(number string, pickedAt time.Time) *fulfilment.Shipment {
	return &fulfilment.Shipment{OrderID: uuid.Must(uuid.NewV7()), OrderNumber: number, Reference: fulfilment.Reference(number),
		CarrierName: "sandbox", ServiceCode: "TPN24", ServiceName: "Tracked 24", PackageFormat: "smallParcel", WeightGrams: 450,
		State: fulfilment.StateQueued, PickedBy: "packer", PickedAt: pickedAt, UpdatedAt: pickedAt}
}

func shipmentJob(id uuid.UUID) ports.Job {
	return ports.Job{ID: fulfilment.JobRegister + ":" + id.String(), Type: fulfilment.JobRegister, Payload: []byte(`{}`)}
}

func TestShipmentStoreCreateAndUpdate(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewShipmentStore(testDB)
	tag := uuid.NewString()[:6]
	sh := newShipment("FS-"+tag, now())
	created, err := s.CreateShipment(ctx, sh, shipmentJob(sh.OrderID))
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	// A second shipment for the order changes nothing: no row, no job.
	again := *sh
	again.WeightGrams = 999
	created, err = s.CreateShipment(ctx, &again, ports.Job{ID: "another-" + tag, Type: fulfilment.JobRegister})
	if err != nil || created {
		t.Fatalf("second create: %v, %v", created, err)
	}
	if n := countRows(t, `SELECT count(*) FROM platform.outbox WHERE job_id IN ($1, $2)`, shipmentJob(sh.OrderID).ID, "another-"+tag); n != 1 {
		t.Fatalf("%d jobs in the outbox, want 1", n)
	}
	got, err := s.Shipment(ctx, sh.OrderID)
	if err != nil || got.WeightGrams != 450 || got.State != fulfilment.StateQueued || len(got.TrackingNumbers) != 0 {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if _, err := s.Shipment(ctx, uuid.New()); ports.ErrorCodeOf(err) != ports.ENOTFOUND {
		t.Fatalf("missing shipment: %v", err)
	}

	// An update saves every changing field, its jobs and its audit entry together.
	shippedAt := now()
	audit := ports.AuditEntry{ActorKind: "staff", Actor: "packer", Action: "shipment.retry", ObjectType: "order",
		ObjectID: sh.OrderID.String(), Detail: "retry"}
	updated, err := s.UpdateShipment(ctx, sh.OrderID, func(x *fulfilment.Shipment) (fulfilment.Change, error) {
		x.State, x.CarrierOrderID, x.TrackingNumbers = fulfilment.StateShipped, "1001", []string{"TT123456785GB", "TT2"}
		x.LabelKey, x.ShippedAt, x.Attempts, x.ErrorKind, x.ErrorMessage = "labels/x.pdf", &shippedAt, 2, fulfilment.ErrorLabel, "words"
		return fulfilment.Change{Jobs: []ports.Job{{ID: "retry-" + tag, Type: fulfilment.JobRegister}}, Audit: &audit}, nil
	})
	if err != nil || updated.State != fulfilment.StateShipped {
		t.Fatalf("update: %+v, %v", updated, err)
	}
	got, _ = s.Shipment(ctx, sh.OrderID)
	if got.State != fulfilment.StateShipped || got.CarrierOrderID != "1001" || fmt.Sprint(got.TrackingNumbers) != "[TT123456785GB TT2]" ||
		got.LabelKey != "labels/x.pdf" || got.ShippedAt == nil || !got.ShippedAt.Equal(shippedAt) || got.Attempts != 2 ||
		got.ErrorKind != fulfilment.ErrorLabel || got.ErrorMessage != "words" {
		t.Fatalf("after update %+v", got)
	}
	if countRows(t, `SELECT count(*) FROM platform.outbox WHERE job_id = $1`, "retry-"+tag) != 1 ||
		auditCount(t, "shipment.retry", sh.OrderID.String()) != 1 {
		t.Fatal("the update's job or audit entry is missing")
	}
	// A failing fn saves nothing.
	boom := errors.New("boom")
	if _, err := s.UpdateShipment(ctx, sh.OrderID, func(x *fulfilment.Shipment) (fulfilment.Change, error) {
		x.State = fulfilment.StateFailed
		return fulfilment.Change{Jobs: []ports.Job{{ID: "lost-" + tag, Type: "x"}}}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("update error %v", err)
	}
	if got, _ := s.Shipment(ctx, sh.OrderID); got.State != fulfilment.StateShipped || countRows(t, `SELECT count(*) FROM platform.outbox WHERE job_id = $1`, "lost-"+tag) != 0 {
		t.Fatal("a failed update left changes")
	}
	// The database refuses a shipment at the carrier without the carrier's order id.
	if _, err := s.UpdateShipment(ctx, sh.OrderID, func(x *fulfilment.Shipment) (fulfilment.Change, error) {
		x.CarrierOrderID = ""
		return fulfilment.Change{}, nil
	}); err == nil {
		t.Fatal("a shipped shipment without a carrier order id was saved")
	}
}

// TestShipmentStoreLockSerializes: while one transaction holds a shipment (a worker
// talking to the carrier), another update of it waits and then sees the first's
// outcome: the guard against two workers registering one parcel.
func TestShipmentStoreLockSerializes(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewShipmentStore(testDB)
	sh := newShipment("FL-"+uuid.NewString()[:6], now())
	if _, err := s.CreateShipment(ctx, sh, shipmentJob(sh.OrderID)); err != nil {
		t.Fatal(err)
	}
	inside := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := s.UpdateShipment(ctx, sh.OrderID, func(x *fulfilment.Shipment) (fulfilment.Change, error) {
			close(inside)
			<-release
			x.State, x.CarrierOrderID = fulfilment.StateCreated, "1"
			return fulfilment.Change{}, nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-inside
	seen := make(chan fulfilment.State, 1)
	go func() {
		_, err := s.UpdateShipment(ctx, sh.OrderID, func(x *fulfilment.Shipment) (fulfilment.Change, error) {
			seen <- x.State
			return fulfilment.Change{}, nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	select {
	case st := <-seen:
		t.Fatalf("the second update ran while the first held the lock (saw %s)", st)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	if st := <-seen; st != fulfilment.StateCreated {
		t.Fatalf("the second update saw %s, want the first's outcome", st)
	}
}

func TestShipmentStoreListsAndPolls(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewShipmentStore(testDB)
	mustExec(t, `DELETE FROM fulfilment.shipments`)
	base := now().Add(-100 * time.Hour)
	mk := func(n string, st fulfilment.State, picked time.Time, poll *time.Time) *fulfilment.Shipment {
		sh := newShipment(n, picked)
		if _, err := s.CreateShipment(ctx, sh, shipmentJob(sh.OrderID)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateShipment(ctx, sh.OrderID, func(x *fulfilment.Shipment) (fulfilment.Change, error) {
			x.State, x.NextPollAt = st, poll
			if st != fulfilment.StateQueued && st != fulfilment.StateFailed {
				x.CarrierOrderID = "c-" + n
			}
			return fulfilment.Change{}, nil
		}); err != nil {
			t.Fatal(err)
		}
		return sh
	}
	due, later := now().Add(-time.Minute), now().Add(time.Hour)
	oldShipped := mk("L-1", fulfilment.StateShipped, base, &due)             // old, finished: not listed
	oldFailed := mk("L-2", fulfilment.StateFailed, base.Add(time.Hour), nil) // old, in progress: listed
	recent := mk("L-3", fulfilment.StateShipped, now().Add(-time.Hour), &later)
	push := mk("L-4", fulfilment.StatePushOnly, now().Add(-time.Minute), &due)
	mk("L-5", fulfilment.StateCreated, now(), &later)

	list, err := s.ListShipments(ctx, fulfilment.ListFilter{Since: now().Add(-72 * time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, sh := range list {
		got = append(got, sh.OrderNumber)
	}
	if fmt.Sprint(got) != "[L-5 L-4 L-3 L-2]" {
		t.Fatalf("listed %v", got)
	}
	dueList, err := s.DueForPoll(ctx, []fulfilment.State{fulfilment.StateShipped}, now(), 10)
	if err != nil || len(dueList) != 1 || dueList[0].OrderID != oldShipped.OrderID {
		t.Fatalf("due shipped: %v, %v", dueList, err)
	}
	dueList, _ = s.DueForPoll(ctx, []fulfilment.State{fulfilment.StateCreated, fulfilment.StatePushOnly}, now(), 10)
	if len(dueList) != 1 || dueList[0].OrderID != push.OrderID {
		t.Fatalf("due at the carrier: %v", dueList)
	}
	m, err := s.Shipments(ctx, []uuid.UUID{recent.OrderID, oldFailed.OrderID, uuid.New()})
	if err != nil || len(m) != 2 || m[recent.OrderID].OrderNumber != "L-3" {
		t.Fatalf("by order: %v, %v", m, err)
	}

	// Tracking events are stored once however often they are read.
	at := now().Add(-30 * time.Minute)
	evs := []fulfilment.TrackingEvent{
		{OrderID: recent.OrderID, TrackingNumber: "TT1", Code: "EVKSP", Name: "Delivered", Delivered: true, At: at},
		{OrderID: recent.OrderID, TrackingNumber: "TT1", Code: "EVDAV", Name: "At the delivery office", Location: "Leeds", At: at.Add(-time.Hour)},
	}
	for range 2 {
		if err := s.AddEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := s.Events(ctx, recent.OrderID)
	if err != nil || len(stored) != 2 || stored[0].Code != "EVDAV" || stored[0].Location != "Leeds" || !stored[1].Delivered {
		t.Fatalf("events %+v, %v", stored, err)
	}
	// Several orders' events in one read, each order's together.
	if err := s.AddEvents(ctx, []fulfilment.TrackingEvent{{OrderID: oldShipped.OrderID, TrackingNumber: "TT2", Code: "EVDAC",
		Name: "At the mail centre", At: at}}); err != nil {
		t.Fatal(err)
	}
	both, err := s.Events(ctx, recent.OrderID, oldShipped.OrderID)
	changes := 0
	for i := 1; i < len(both); i++ {
		if both[i].OrderID != both[i-1].OrderID {
			changes++
		}
	}
	if err != nil || len(both) != 3 || changes != 1 {
		t.Fatalf("events of two orders %+v, %v", both, err)
	}
}

// TestCatalogTakeAndReturnStock: picking takes a reserved order's goods off the
// shelf with a "sold" movement; cancelling after picking puts them back with a
// "returned" movement; each once.
func TestCatalogTakeAndReturnStock(t *testing.T) {
	e := newCatEnv(t)
	onSale := func(in *catalog.ProductInput) { in.Status, in.ShippingWeight = "active", "120" }
	tracked := e.product(t, "Tracked tea", onSale) // 10 in stock
	untracked := e.product(t, "Gift card", func(in *catalog.ProductInput) { onSale(in); in.TrackStock = false; in.InitialStock = "" })
	orderID := uuid.New()
	t.Cleanup(func() { mustExec(t, `DELETE FROM catalog.reservations WHERE order_id = $1`, orderID) })
	ctx := e.ctx
	if _, err := e.store.Reserve(ctx, orderID, []catalog.ReserveLine{{ProductID: tracked.ID, Quantity: 3}, {ProductID: untracked.ID, Quantity: 2}}); err != nil {
		t.Fatalf("reserve: %v", err)
	}
	check := func(when string, onHand, reserved int) {
		t.Helper()
		p := e.get(t, tracked.ID)
		if p.StockOnHand != onHand || p.Reserved != reserved {
			t.Fatalf("%s: on hand %d, reserved %d; want %d, %d", when, p.StockOnHand, p.Reserved, onHand, reserved)
		}
	}
	check("reserved", 10, 3)
	for range 2 {
		if err := e.svc.TakeReserved(ctx, orderID, "OD-1 picked"); err != nil {
			t.Fatal(err)
		}
	}
	check("picked", 7, 0)
	ms, _ := e.svc.Movements(ctx, tracked.ID)
	if ms[0].Delta != -3 || ms[0].BalanceAfter != 7 || ms[0].Reason != catalog.ReasonSold || ms[0].Note != "OD-1 picked" || ms[0].Actor != catActor.Name {
		t.Fatalf("movement %+v", ms[0])
	}
	if ms, _ := e.svc.Movements(ctx, untracked.ID); len(ms) != 0 {
		t.Fatalf("a product without stock tracking got movements %+v", ms)
	}
	// Releasing (what an order cancellation does) leaves taken goods alone.
	if err := e.svc.Release(ctx, orderID); err != nil {
		t.Fatal(err)
	}
	check("released after picking", 7, 0)
	for range 2 {
		if err := e.svc.ReturnTaken(ctx, orderID, "OD-1 cancelled after picking"); err != nil {
			t.Fatal(err)
		}
	}
	check("returned", 10, 0)
	ms, _ = e.svc.Movements(ctx, tracked.ID)
	if ms[0].Delta != 3 || ms[0].BalanceAfter != 10 || ms[0].Reason != catalog.ReasonReturned || len(ms) != 3 {
		t.Fatalf("movements %+v", ms)
	}
}

func TestOrderStorePickQueueAndAddress(t *testing.T) {
	ctx := context.Background()
	e := newOrdEnv(t)
	app := uuid.New()
	mustExec(t, `UPDATE ordering.orders SET status = 'cancelled' WHERE status = 'processing'`)
	base := time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC)
	older := e.order(t, app, "a", ordering.StatusProcessing, base)
	newer := e.order(t, app, "b", ordering.StatusProcessing, base.Add(time.Hour))
	express := e.order(t, app, "c", ordering.StatusProcessing, base.Add(2*time.Hour))
	mustExec(t, `UPDATE ordering.orders SET express = true WHERE id = $1`, express.ID)
	e.order(t, app, "d", ordering.StatusPendingPayment, base.Add(-time.Hour))
	q, err := e.store.PickQueue(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantNumbers(t, "pick queue", q, express, older, newer)
	if len(q[0].Lines) != 1 || q[0].Lines[0].Name != "Tea" {
		t.Fatalf("queue without lines: %+v", q[0].Lines)
	}
	// UpdateOrder saves a new sealed address.
	if _, err := e.store.UpdateOrder(ctx, older.ID, func(o *ordering.Order) (ordering.Change, error) {
		o.AddressSealed = []byte("resealed")
		return ordering.Change{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	o, _ := e.store.OrderHead(ctx, older.ID)
	if string(o.AddressSealed) != "resealed" {
		t.Fatalf("address %q", o.AddressSealed)
	}
}
