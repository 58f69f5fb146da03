package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/google/uuid"

	"orderdesk/adapters/filestore"
	"orderdesk/modules/catalog"
	"orderdesk/modules/ordering"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// DemoPassword is the password of the demo staff users that `seed demo` creates.
const DemoPassword = "demo-password"

// seedDemo loads the demo data: one staff user per role besides admin, and a demo
// catalog with stock and photos. Every module adds its own demo data here. Running it
// again changes nothing.
func seedDemo(ctx context.Context, cfg *Config, out io.Writer) error {
	return withStaff(ctx, cfg, func(db *postgres.DB, svc *staff.Service) error { return seedAll(ctx, cfg, db, svc, out) })
}

func seedAll(ctx context.Context, cfg *Config, db *postgres.DB, svc *staff.Service, out io.Writer) error {
	ctx = ports.WithActor(ctx, ports.Actor{Kind: ports.ActorSystem, Name: "seed"})
	for _, r := range []staff.Role{staff.RoleManager, staff.RolePacker, staff.RoleAccountant, staff.RoleSupport} {
		name := "demo-" + string(r)
		_, err := svc.CreateUser(ctx, staff.NewUser{Username: name, DisplayName: "Demo " + string(r), Role: r, Password: DemoPassword}, false)
		switch {
		case err == nil:
			fmt.Fprintf(out, "demo staff user %s (%s), password %s\n", name, r, DemoPassword)
		case ports.ErrorCodeOf(err) == ports.EINVALID && len(ports.FieldErrorsOf(err)) == 1 && ports.FieldErrorsOf(err)[0].Field == "username":
			// already there
		default:
			return fmt.Errorf("seed %s: %w", name, err)
		}
	}
	if err := seedCatalog(ctx, db, cfg, out); err != nil {
		return err
	}
	if err := seedShipping(ctx, db, out); err != nil {
		return err
	}
	fmt.Fprintln(out, "demo data loaded")
	return nil
}

type demoProduct struct {
	name, desc, category, sku, price, unit, weight, shipping string
	stock                                                    int
	track                                                    bool
	colour                                                   color.RGBA
}

// seedCatalog adds demo categories and products with a photo each, unless the demo
// categories are there already.
func seedCatalog(ctx context.Context, db *postgres.DB, cfg *Config, out io.Writer) error {
	files, err := filestore.NewLocal(cfg.DataDir)
	if err != nil {
		return &ConfigError{"DATA_DIR", fmt.Sprintf("cannot be used: %v", err)}
	}
	svc := catalog.NewService(postgres.NewCatalogStore(db), files, ports.SystemClock)
	existing, err := svc.Categories(ctx)
	if err != nil {
		return err
	}
	for _, c := range existing {
		if c.Slug == "tea" {
			return nil
		}
	}
	ids := map[string]string{}
	for _, c := range []struct{ name, parent string }{{"Tea", ""}, {"Green tea", "Tea"}, {"Coffee", ""}, {"Accessories", ""}} {
		in := catalog.CategoryInput{Name: c.name, Visible: true, Position: len(ids) * 10}
		if c.parent != "" {
			id, _ := uuid.Parse(ids[c.parent])
			in.ParentID = &id
		}
		cat, err := svc.CreateCategory(ctx, in)
		if err != nil {
			return fmt.Errorf("seed category %s: %w", c.name, err)
		}
		ids[c.name] = cat.ID.String()
	}
	products := []demoProduct{
		{"Earl Grey", "Black tea with bergamot.\nSteep 3–4 minutes at 95 °C. ☕", "Tea", "TEA-EG-250", "6.50", "grams", "250", "", 40, true, color.RGBA{120, 70, 40, 255}},
		{"English Breakfast", "A strong, malty blend.", "Tea", "TEA-EB-250", "5.90", "grams", "250", "", 25, true, color.RGBA{90, 50, 30, 255}},
		{"Sencha", "Steamed Japanese green tea. 🍵", "Green tea", "TEA-SEN-100", "8.20", "grams", "100", "", 3, true, color.RGBA{110, 160, 60, 255}},
		{"Jasmine Pearls", "Hand-rolled green tea scented with jasmine.", "Green tea", "TEA-JAS-50", "9.75", "grams", "50", "", 12, true, color.RGBA{200, 210, 120, 255}},
		{"Colombian Beans", "Whole coffee beans, medium roast.", "Coffee", "COF-COL-1LB", "11.00", "pounds", "1", "", 18, true, color.RGBA{60, 35, 20, 255}},
		{"Cold Brew Concentrate", "Ready to dilute, 1:3.", "Coffee", "COF-CB-500", "7.40", "millilitres", "500", "620", 9, true, color.RGBA{40, 25, 15, 255}},
		{"Tea Infuser", "Stainless steel mesh ball.", "Accessories", "ACC-INF", "4.00", "unit", "", "60", 50, true, color.RGBA{180, 180, 190, 255}},
		{"Gift Wrapping", "We wrap your order in recycled paper.", "Accessories", "ACC-WRAP", "2.50", "unit", "", "30", 0, false, color.RGBA{200, 40, 60, 255}},
	}
	for _, d := range products {
		p, err := svc.CreateProduct(ctx, catalog.ProductInput{Name: d.name, Description: d.desc, CategoryID: ids[d.category], SKU: d.sku,
			Status: "active", Price: d.price, WeightUnit: d.unit, Weight: d.weight, ShippingWeight: d.shipping, TrackStock: d.track,
			InitialStock: fmt.Sprint(d.stock), LowStockThreshold: "5"})
		if err != nil {
			return fmt.Errorf("seed product %s: %w", d.name, err)
		}
		if _, err := svc.AddPhoto(ctx, p.ID, demoPhoto(d.colour), d.name); err != nil {
			return fmt.Errorf("seed photo %s: %w", d.name, err)
		}
	}
	fmt.Fprintf(out, "demo catalog: %d categories, %d products\n", len(ids), len(products))
	return nil
}

// demoPhoto draws a simple two-tone square as a product photo.
func demoPhoto(c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 600, 600))
	light := color.RGBA{uint8(min(255, int(c.R)+60)), uint8(min(255, int(c.G)+60)), uint8(min(255, int(c.B)+60)), 255}
	for y := 0; y < 600; y++ {
		for x := 0; x < 600; x++ {
			if (x-300)*(x-300)+(y-300)*(y-300) < 180*180 {
				img.SetRGBA(x, y, light)
			} else {
				img.SetRGBA(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// seedShipping adds Royal Mail shipping methods unless there are some.
func seedShipping(ctx context.Context, db *postgres.DB, out io.Writer) error {
	svc := ordering.NewService(postgres.NewOrderStore(db), db, nil, nil, nil, nil, ports.SystemClock)
	existing, err := svc.ShippingMethods(ctx, false)
	if err != nil || len(existing) > 0 {
		return err
	}
	methods := []ordering.ShippingMethodInput{
		{Name: "Royal Mail 2nd Class", ServiceCode: "CRL2", PackageFormat: "smallParcel", Price: "3.20", MaxWeight: "2000", Position: "10", Active: true},
		{Name: "Royal Mail 1st Class", ServiceCode: "CRL1", PackageFormat: "smallParcel", Price: "4.10", MaxWeight: "2000", Position: "20", Active: true},
		{Name: "Royal Mail Tracked 24", ServiceCode: "TPN24", PackageFormat: "parcel", Price: "5.50", MaxWeight: "20000", Position: "30", Active: true},
		{Name: "Special Delivery Guaranteed by 1pm", ServiceCode: "SD1", PackageFormat: "parcel", Price: "9.90", MaxWeight: "20000", Position: "40", Express: true, Active: true},
		{Name: "Large Letter 2nd Class", ServiceCode: "STL2", PackageFormat: "largeLetter", Price: "1.55", MaxWeight: "750", Position: "5", Active: true},
	}
	for _, m := range methods {
		if _, err := svc.CreateShippingMethod(ctx, m); err != nil {
			return fmt.Errorf("seed shipping method %s: %w", m.Name, err)
		}
	}
	fmt.Fprintf(out, "demo shipping methods: %d\n", len(methods))
	return nil
}
