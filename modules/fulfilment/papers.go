package fulfilment

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Order is a paid order as fulfilment sees it: what to pick and how to ship it.
type Order struct {
	ID            uuid.UUID
	Number        string
	Status        string
	Express       bool
	ServiceCode   string
	ServiceName   string
	PackageFormat string
	WeightGrams   int
	SubtotalPence int64
	ShippingPence int64
	TotalPence    int64
	PlacedAt      time.Time
	Lines         []Line
}

// Line is one product of an order.
type Line struct {
	ProductID       uuid.UUID
	SKU             string
	Name            string
	Quantity        int
	UnitPricePence  int64
	UnitWeightGrams int
	// Thumbnail is the URL path of the product's primary photo, "" without one.
	Thumbnail string
}

// Package is the order's own parcel: its shipping method's format and the weight of
// its lines.
func (o Order) Package() Package { return Package{Format: o.PackageFormat, WeightGrams: o.WeightGrams} }

// Units is the number of items to pick.
func (o Order) Units() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Quantity
	}
	return n
}

// PickList is the packer's walk through the shelves for a batch of orders: each
// product once, with the quantity summed across the orders.
type PickList struct {
	At     time.Time
	Orders []string
	Items  []PickItem
}

// PickItem is one product to take from the shelf.
type PickItem struct {
	SKU      string
	Name     string
	Quantity int
	// Orders lists the order numbers that need it, with their quantities ("OD-10001 ×2").
	Orders []string
}

// BuildPickList sums the lines of orders by SKU (by product for lines without one),
// sorted by SKU, then name, so that the list follows the shelves.
func BuildPickList(orders []Order, at time.Time) PickList {
	pl := PickList{At: at}
	index := map[string]int{}
	for _, o := range orders {
		pl.Orders = append(pl.Orders, o.Number)
		for _, l := range o.Lines {
			key := "sku:" + strings.ToUpper(l.SKU)
			if l.SKU == "" {
				key = "product:" + l.ProductID.String()
			}
			i, ok := index[key]
			if !ok {
				i = len(pl.Items)
				index[key] = i
				pl.Items = append(pl.Items, PickItem{SKU: l.SKU, Name: l.Name})
			}
			pl.Items[i].Quantity += l.Quantity
			pl.Items[i].Orders = append(pl.Items[i].Orders, o.Number+" ×"+strconv.Itoa(l.Quantity))
		}
	}
	sort.SliceStable(pl.Items, func(i, j int) bool {
		a, b := pl.Items[i], pl.Items[j]
		if (a.SKU == "") != (b.SKU == "") {
			return a.SKU != "" // lines without a SKU last
		}
		if !strings.EqualFold(a.SKU, b.SKU) {
			return strings.ToUpper(a.SKU) < strings.ToUpper(b.SKU)
		}
		return a.Name < b.Name
	})
	return pl
}

// PackingSlip goes in the parcel: the order number (also as a QR code), the lines, and
// the prices only when the shop wants them shown.
type PackingSlip struct {
	Number      string
	PlacedAt    time.Time
	ServiceName string
	Lines       []Line
	ShowPrices  bool
	Subtotal    int64
	Shipping    int64
	Total       int64
}

// Slip makes the packing slip of an order.
func (o Order) Slip(showPrices bool) PackingSlip {
	return PackingSlip{Number: o.Number, PlacedAt: o.PlacedAt, ServiceName: o.ServiceName, Lines: o.Lines,
		ShowPrices: showPrices, Subtotal: o.SubtotalPence, Shipping: o.ShippingPence, Total: o.TotalPence}
}

// Documents renders the papers of fulfilment as PDF.
type Documents interface {
	PickList(pl PickList) ([]byte, error)
	// PackingSlips renders one page per slip.
	PackingSlips(slips []PackingSlip) ([]byte, error)
	// Merge joins PDF files into one, in order (a batch of labels to print at once).
	Merge(files [][]byte) ([]byte, error)
}
