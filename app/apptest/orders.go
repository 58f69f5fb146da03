package apptest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"orderdesk/modules/catalog"
	"orderdesk/modules/clients"
	"orderdesk/modules/ordering"
	"orderdesk/ports"
)

// Shop is what placing an order needs: a client app (with a webhook that nobody
// answers, so its deliveries stay pending), an active product with stock and an active
// shipping method.
type Shop struct {
	env     *Env
	App     *clients.Created
	Product *catalog.Product
	Method  *ordering.ShippingMethod
}

// Address is the shipping address of the orders a Shop places.
var Address = ordering.Address{Name: "Ann Example", Line1: "1 High Street", City: "London", Postcode: "SW1A 1AA",
	CountryCode: "GB", Phone: "+44 20 7946 0000"}

// NewShop creates a client app called name (with a suffix that keeps it unique in the
// package's database), a product and a shipping method named after it.
func (e *Env) NewShop(t testing.TB, name string) *Shop {
	t.Helper()
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorSystem, Name: "test"})
	app, err := e.App.Clients.CreateApp(ctx, name+" "+uuid.NewString()[:6], "http://127.0.0.1:9/hook")
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.App.Catalog.CreateProduct(ctx, catalog.ProductInput{Name: name + " tea", SKU: "SKU-" + uuid.NewString()[:8], Price: "4.50",
		WeightUnit: "grams", Weight: "250", ShippingWeight: "300", TrackStock: true, InitialStock: "1000", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.App.Orders.CreateShippingMethod(ctx, ordering.ShippingMethodInput{Name: name + " post", ServiceCode: "TPN24",
		PackageFormat: "parcel", Price: "3.50", MaxWeight: "20000", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return &Shop{env: e, App: app, Product: p, Method: m}
}

// Place places an order of qty units for the customer identity, as the client app.
func (s *Shop) Place(t testing.TB, identity string, qty int) *ordering.Order {
	t.Helper()
	in := ordering.PlaceInput{Items: []ordering.Item{{ProductID: s.Product.ID.String(), Quantity: qty}},
		ShippingMethodID: s.Method.ID.String(), ShippingAddress: Address}
	body, _ := json.Marshal(in)
	cl := ordering.Client{AppID: s.App.App.ID, AppName: s.App.App.Name, IdentityRef: identity}
	ctx := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorClient, ID: s.App.App.ID.String(), Name: s.App.App.Name})
	o, _, err := s.env.App.Orders.PlaceOrder(ctx, cl, uuid.NewString(), body, in)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Ask records a customer's help message on o.
func (s *Shop) Ask(t testing.TB, o *ordering.Order, body string) {
	t.Helper()
	if _, err := s.env.App.Orders.AddCustomerMessage(context.Background(), o, body); err != nil {
		t.Fatal(err)
	}
}
