package admin

import (
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/catalog"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

func (h *Handler) registerCatalog(g fiber.Router) {
	const obj = staff.ObjCatalog
	h.menu("Products", "/admin/catalog/products", obj)
	h.menu("Categories", "/admin/catalog/categories", obj)
	h.route(g, "GET", "/catalog/categories", obj, staff.ActRead, h.categories)
	h.route(g, "GET", "/catalog/categories/new", obj, staff.ActWrite, h.newCategory)
	h.route(g, "POST", "/catalog/categories", obj, staff.ActWrite, h.createCategory)
	h.route(g, "GET", "/catalog/categories/:id", obj, staff.ActRead, h.category)
	h.route(g, "POST", "/catalog/categories/:id", obj, staff.ActWrite, h.updateCategory)
	h.route(g, "POST", "/catalog/categories/:id/delete", obj, staff.ActWrite, h.deleteCategory)

	h.route(g, "GET", "/catalog/products", obj, staff.ActRead, h.products)
	h.route(g, "GET", "/catalog/products/new", obj, staff.ActWrite, h.newProduct)
	h.route(g, "POST", "/catalog/products", obj, staff.ActWrite, h.createProduct)
	h.route(g, "GET", "/catalog/products/:id", obj, staff.ActRead, h.product)
	h.route(g, "POST", "/catalog/products/:id", obj, staff.ActWrite, h.updateProduct)
	h.route(g, "POST", "/catalog/products/:id/delete", obj, staff.ActWrite, h.deleteProduct)
	h.route(g, "POST", "/catalog/products/:id/status", obj, staff.ActWrite, h.quickStatus)
	h.route(g, "POST", "/catalog/products/:id/stock", obj, staff.ActWrite, h.quickStock)
	h.route(g, "POST", "/catalog/products/:id/adjust", obj, staff.ActWrite, h.adjustStock)
	h.route(g, "POST", "/catalog/products/:id/photos", obj, staff.ActWrite, h.uploadPhotos)
	h.route(g, "POST", "/catalog/products/:id/photos/:photo/move", obj, staff.ActWrite, h.movePhoto)
	h.route(g, "POST", "/catalog/products/:id/photos/:photo/primary", obj, staff.ActWrite, h.primaryPhoto)
	h.route(g, "POST", "/catalog/products/:id/photos/:photo/alt", obj, staff.ActWrite, h.photoAlt)
	h.route(g, "POST", "/catalog/products/:id/photos/:photo/delete", obj, staff.ActWrite, h.deletePhoto)
}

func parseID(c *fiber.Ctx, name, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, fiber.NewError(fiber.StatusNotFound, "No such "+what+".")
	}
	return id, nil
}

func optionalID(s string) *uuid.UUID {
	if id, err := uuid.Parse(strings.TrimSpace(s)); err == nil {
		return &id
	}
	return nil
}

// ---- categories

type categoriesData struct {
	Categories []catalog.Category
	CanWrite   bool
}

func (h *Handler) categories(c *fiber.Ctx) error {
	cats, err := h.d.Catalog.Categories(c.UserContext())
	if err != nil {
		return err
	}
	return h.page(c, fiber.StatusOK, "catalog/categories", "Categories",
		categoriesData{Categories: cats, CanWrite: h.d.Staff.Can(principal(c), staff.ObjCatalog, staff.ActWrite)}, nil)
}

type categoryData struct {
	Category *catalog.Category
	Parents  []catalog.Category // possible parents
	Others   []catalog.Category // possible destinations for its products
}

func (h *Handler) categoryForm(c *fiber.Ctx, status int, cat *catalog.Category, f *form) error {
	all, err := h.d.Catalog.Categories(c.UserContext())
	if err != nil {
		return err
	}
	d := categoryData{Category: cat}
	for _, x := range all {
		if cat != nil && x.ID == cat.ID {
			continue
		}
		d.Others = append(d.Others, x)
		if x.ParentID == nil {
			d.Parents = append(d.Parents, x)
		}
	}
	title := "New category"
	if cat != nil {
		title = "Category " + cat.Name
	}
	return h.page(c, status, "catalog/category", title, d, f)
}

func (h *Handler) newCategory(c *fiber.Ctx) error {
	f := &form{Values: map[string]string{"visible": "on", "position": "0"}, Errors: map[string]string{}}
	return h.categoryForm(c, fiber.StatusOK, nil, f)
}

var categoryFields = []string{"name", "slug", "parent_id", "position", "visible"}

func categoryInput(f *form) (catalog.CategoryInput, error) {
	in := catalog.CategoryInput{Name: f.Get("name"), Slug: f.Get("slug"), ParentID: optionalID(f.Get("parent_id")),
		Visible: f.Get("visible") == "on"}
	if s := strings.TrimSpace(f.Get("parent_id")); s != "" && in.ParentID == nil {
		return in, ports.Invalid(ports.Field("parent_id", "Choose a parent from the list."))
	}
	if s := f.Trimmed("position"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return in, ports.Invalid(ports.Field("position", "Enter a whole number, like 10."))
		}
		in.Position = n
	}
	return in, nil
}

func (h *Handler) createCategory(c *fiber.Ctx) error {
	f := newForm(c, categoryFields...)
	in, err := categoryInput(f)
	var cat *catalog.Category
	if err == nil {
		cat, err = h.d.Catalog.CreateCategory(c.UserContext(), in)
	}
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.categoryForm(c, fiber.StatusUnprocessableEntity, nil, f)
	}
	h.flash(c, "ok", "Category "+cat.Name+" created.")
	return h.redirect(c, "/admin/catalog/categories")
}

func (h *Handler) loadCategory(c *fiber.Ctx) (*catalog.Category, error) {
	id, err := parseID(c, "id", "category")
	if err != nil {
		return nil, err
	}
	return h.d.Catalog.Category(c.UserContext(), id)
}

func (h *Handler) category(c *fiber.Ctx) error {
	cat, err := h.loadCategory(c)
	if err != nil {
		return err
	}
	f := &form{Values: map[string]string{"name": cat.Name, "slug": cat.Slug, "position": strconv.Itoa(cat.Position)}, Errors: map[string]string{}}
	if cat.Visible {
		f.Values["visible"] = "on"
	}
	if cat.ParentID != nil {
		f.Values["parent_id"] = cat.ParentID.String()
	}
	return h.categoryForm(c, fiber.StatusOK, cat, f)
}

func (h *Handler) updateCategory(c *fiber.Ctx) error {
	cat, err := h.loadCategory(c)
	if err != nil {
		return err
	}
	f := newForm(c, categoryFields...)
	in, err := categoryInput(f)
	if err == nil {
		_, err = h.d.Catalog.UpdateCategory(c.UserContext(), cat.ID, in)
	}
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.categoryForm(c, fiber.StatusUnprocessableEntity, cat, f)
	}
	h.flash(c, "ok", "Category "+in.Name+" saved.")
	return h.redirect(c, "/admin/catalog/categories")
}

func (h *Handler) deleteCategory(c *fiber.Ctx) error {
	cat, err := h.loadCategory(c)
	if err != nil {
		return err
	}
	f := newForm(c, "move_to")
	err = h.d.Catalog.DeleteCategory(c.UserContext(), cat.ID, optionalID(f.Get("move_to")))
	if err != nil {
		switch ports.ErrorCodeOf(err) {
		case ports.ECONFLICT, ports.EINVALID:
			f.fail(err)
			f.Values = map[string]string{"name": cat.Name, "slug": cat.Slug, "position": strconv.Itoa(cat.Position), "move_to": f.Get("move_to")}
			if cat.Visible {
				f.Values["visible"] = "on"
			}
			return h.categoryForm(c, fiber.StatusConflict, cat, f)
		}
		return err
	}
	h.flash(c, "ok", "Category "+cat.Name+" deleted.")
	return h.redirect(c, "/admin/catalog/categories")
}

// ---- products

type productsData struct {
	Products   []catalog.Product
	Categories []catalog.Category
	Statuses   []catalog.ProductStatus
	Query      url.Values
	NextURL    string
	Total      int
	CanWrite   bool
}

func (h *Handler) productFilter(c *fiber.Ctx) (catalog.ProductFilter, url.Values) {
	q := url.Values{}
	f := catalog.ProductFilter{Limit: 25}
	if s := strings.TrimSpace(c.Query("q")); s != "" {
		f.Query = clip(s, 200)
		q.Set("q", f.Query)
	}
	if id := optionalID(c.Query("category")); id != nil {
		f.CategoryID = id
		q.Set("category", id.String())
	}
	if st := catalog.ProductStatus(c.Query("status")); st.Valid() {
		f.Status = st
		q.Set("status", string(st))
	}
	if c.Query("low") == "1" {
		f.LowStock = true
		q.Set("low", "1")
	}
	switch s := catalog.ProductSort(c.Query("sort")); s {
	case catalog.SortName, catalog.SortPrice, catalog.SortStock, catalog.SortUpdated:
		f.Sort = s
		q.Set("sort", string(s))
	default:
		f.Sort = catalog.SortName
	}
	if c.Query("dir") == "desc" {
		f.Desc = true
		q.Set("dir", "desc")
	}
	return f, q
}

func (h *Handler) products(c *fiber.Ctx) error {
	f, q := h.productFilter(c)
	if a := c.Query("after"); a != "" {
		id, value, ok := strings.Cut(a, "~")
		if uid, err := uuid.Parse(id); ok && err == nil {
			f.After = &catalog.Cursor{ID: uid, Value: value}
		}
	}
	ctx := c.UserContext()
	ps, next, err := h.d.Catalog.Products(ctx, f)
	if ports.ErrorCodeOf(err) == ports.EINVALID {
		f.After = nil
		ps, next, err = h.d.Catalog.Products(ctx, f)
	}
	if err != nil {
		return err
	}
	f.After = nil
	total, err := h.d.Catalog.CountProducts(ctx, f)
	if err != nil {
		return err
	}
	cats, err := h.d.Catalog.Categories(ctx)
	if err != nil {
		return err
	}
	d := productsData{Products: ps, Categories: cats, Statuses: catalog.ProductStatuses, Query: q, Total: total,
		CanWrite: h.d.Staff.Can(principal(c), staff.ObjCatalog, staff.ActWrite)}
	if next != nil {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", next.ID.String()+"~"+next.Value)
		d.NextURL = "/admin/catalog/products?" + nq.Encode()
	}
	return h.page(c, fiber.StatusOK, "catalog/products", "Products", d, nil)
}

type productData struct {
	Product    *catalog.Product
	Categories []catalog.Category
	Units      []catalog.WeightUnit
	Statuses   []catalog.ProductStatus
	Reasons    []catalog.StockReason
	Movements  []catalog.StockMovement
	CanWrite   bool
	Adjust     *form
}

var productFields = []string{"name", "description", "category_id", "sku", "status", "price", "weight_unit", "weight",
	"shipping_weight", "track_stock", "initial_stock", "low_stock_threshold"}

func productInput(f *form) catalog.ProductInput {
	return catalog.ProductInput{
		Name: f.Get("name"), Description: f.Get("description"), CategoryID: f.Get("category_id"), SKU: f.Get("sku"),
		Status: f.Get("status"), Price: f.Get("price"), WeightUnit: f.Get("weight_unit"), Weight: f.Get("weight"),
		ShippingWeight: f.Get("shipping_weight"), TrackStock: f.Get("track_stock") == "on", InitialStock: f.Get("initial_stock"),
		LowStockThreshold: f.Get("low_stock_threshold"),
	}
}

func productValues(p *catalog.Product) map[string]string {
	v := map[string]string{
		"name": p.Name, "description": p.Description, "status": string(p.Status), "price": ports.FormatMinor(p.PriceMinor, "GBP"),
		"weight_unit": string(p.WeightUnit), "weight": p.Weight(), "low_stock_threshold": strconv.Itoa(p.LowStockThreshold),
	}
	if p.CategoryID != nil {
		v["category_id"] = p.CategoryID.String()
	}
	if p.SKU != nil {
		v["sku"] = *p.SKU
	}
	if p.ShippingWeightGrams != nil {
		v["shipping_weight"] = strconv.Itoa(*p.ShippingWeightGrams)
	}
	if p.TrackStock {
		v["track_stock"] = "on"
	}
	return v
}

func (h *Handler) productPage(c *fiber.Ctx, status int, p *catalog.Product, f, adjust *form) error {
	ctx := c.UserContext()
	cats, err := h.d.Catalog.Categories(ctx)
	if err != nil {
		return err
	}
	d := productData{Product: p, Categories: cats, Units: catalog.WeightUnits, Statuses: catalog.ProductStatuses,
		Reasons: catalog.AdjustmentReasons, CanWrite: h.d.Staff.Can(principal(c), staff.ObjCatalog, staff.ActWrite), Adjust: adjust}
	if d.Adjust == nil {
		d.Adjust = &form{Values: map[string]string{}, Errors: map[string]string{}}
	}
	title := "New product"
	if p != nil {
		title = p.Name
		if d.Movements, err = h.d.Catalog.Movements(ctx, p.ID); err != nil {
			return err
		}
		if f == nil {
			f = &form{Values: productValues(p), Errors: map[string]string{}}
		}
	}
	return h.page(c, status, "catalog/product", title, d, f)
}

func (h *Handler) newProduct(c *fiber.Ctx) error {
	f := &form{Values: map[string]string{"status": "active", "weight_unit": "grams", "track_stock": "on", "initial_stock": "0",
		"low_stock_threshold": "0"}, Errors: map[string]string{}}
	if id := optionalID(c.Query("category")); id != nil {
		f.Values["category_id"] = id.String()
	}
	return h.productPage(c, fiber.StatusOK, nil, f, nil)
}

func (h *Handler) createProduct(c *fiber.Ctx) error {
	f := newForm(c, productFields...)
	p, err := h.d.Catalog.CreateProduct(c.UserContext(), productInput(f))
	if err != nil {
		if !f.fail(err) {
			return err
		}
		return h.productPage(c, fiber.StatusUnprocessableEntity, nil, f, nil)
	}
	h.flash(c, "ok", "Product "+p.Name+" created. Add its photos below.")
	return h.redirect(c, "/admin/catalog/products/"+p.ID.String())
}

func (h *Handler) loadProduct(c *fiber.Ctx) (*catalog.Product, error) {
	id, err := parseID(c, "id", "product")
	if err != nil {
		return nil, err
	}
	return h.d.Catalog.Product(c.UserContext(), id)
}

func (h *Handler) product(c *fiber.Ctx) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	return h.productPage(c, fiber.StatusOK, p, nil, nil)
}

func (h *Handler) updateProduct(c *fiber.Ctx) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	f := newForm(c, productFields...)
	if _, err := h.d.Catalog.UpdateProduct(c.UserContext(), p.ID, productInput(f)); err != nil {
		if !f.fail(err) {
			return err
		}
		return h.productPage(c, fiber.StatusUnprocessableEntity, p, f, nil)
	}
	h.flash(c, "ok", "Product saved.")
	return h.redirect(c, "/admin/catalog/products/"+p.ID.String())
}

func (h *Handler) deleteProduct(c *fiber.Ctx) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	archived, err := h.d.Catalog.DeleteProduct(c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	if archived {
		h.flash(c, "ok", "Orders refer to "+p.Name+", so it has been archived (hidden from client apps) instead of deleted.")
		return h.redirect(c, "/admin/catalog/products/"+p.ID.String())
	}
	h.flash(c, "ok", "Product "+p.Name+" deleted.")
	return h.redirect(c, "/admin/catalog/products")
}

// quickResult answers a quick edit from the list: the row fragment for htmx, else a
// redirect back to the list with a flash.
func (h *Handler) quickResult(c *fiber.Ctx, p *catalog.Product, err error) error {
	if err != nil {
		if ports.ErrorCodeOf(err) != ports.EINVALID && ports.ErrorCodeOf(err) != ports.ENOTFOUND {
			return err
		}
		msg := ports.ErrorMessageOf(err)
		if fe := ports.FieldErrorsOf(err); len(fe) > 0 {
			msg = fe[0].Message
		}
		if c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" && p != nil {
			return h.tmpl.render(c, fiber.StatusUnprocessableEntity, "catalog/product_row",
				&view{Data: map[string]any{"P": p, "Error": msg, "CanWrite": true, "Statuses": catalog.ProductStatuses}, CSRF: h.csrfToken(c)})
		}
		h.flash(c, "error", msg)
		return h.redirect(c, "/admin/catalog/products")
	}
	if c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" {
		return h.tmpl.render(c, fiber.StatusOK, "catalog/product_row",
			&view{Data: map[string]any{"P": p, "Saved": true, "CanWrite": true, "Statuses": catalog.ProductStatuses}, CSRF: h.csrfToken(c)})
	}
	h.flash(c, "ok", p.Name+" saved.")
	return h.redirect(c, "/admin/catalog/products")
}

func (h *Handler) quickStatus(c *fiber.Ctx) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	np, err := h.d.Catalog.SetStatus(c.UserContext(), p.ID, catalog.ProductStatus(c.FormValue("status")))
	if err != nil {
		return h.quickResult(c, p, err)
	}
	return h.quickResult(c, np, nil)
}

func (h *Handler) quickStock(c *fiber.Ctx) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	n, perr := strconv.Atoi(strings.TrimSpace(c.FormValue("stock")))
	if perr != nil {
		return h.quickResult(c, p, ports.Invalid(ports.Field("stock", "Enter a whole number of units.")))
	}
	np, err := h.d.Catalog.SetStock(c.UserContext(), p.ID, n)
	if err != nil {
		return h.quickResult(c, p, err)
	}
	np.Photos = p.Photos
	return h.quickResult(c, np, nil)
}

func (h *Handler) adjustStock(c *fiber.Ctx) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	af := newForm(c, "delta", "reason", "note")
	delta, perr := strconv.Atoi(strings.TrimPrefix(af.Trimmed("delta"), "+"))
	if perr != nil {
		err = ports.Invalid(ports.Field("delta", "Enter a whole number, like 10 or -2."))
	} else {
		_, err = h.d.Catalog.AdjustStock(c.UserContext(), p.ID, delta, catalog.StockReason(af.Get("reason")), af.Get("note"))
	}
	if err != nil {
		if !af.fail(err) {
			return err
		}
		return h.productPage(c, fiber.StatusUnprocessableEntity, p, nil, af)
	}
	h.flash(c, "ok", "Stock adjusted.")
	return h.redirect(c, "/admin/catalog/products/"+p.ID.String()+"#stock")
}

// uploadPhotos takes one or more files of the multipart field "photos". Every file is
// checked on its own; the good ones are kept and each bad one named in the message.
func (h *Handler) uploadPhotos(c *fiber.Ctx) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	mf, err := c.MultipartForm()
	if err != nil || len(mf.File["photos"]) == 0 {
		h.flash(c, "error", "Choose one or more photos to upload.")
		return h.redirect(c, "/admin/catalog/products/"+p.ID.String()+"#photos")
	}
	alt := ""
	if v := mf.Value["alt"]; len(v) > 0 {
		alt = v[0]
	}
	var problems []string
	added := 0
	for _, fh := range mf.File["photos"] {
		if fh.Size > catalog.PhotoMaxBytes {
			problems = append(problems, fh.Filename+": larger than 10 MB.")
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(f, catalog.PhotoMaxBytes+1))
		f.Close()
		if err != nil {
			return err
		}
		if _, err := h.d.Catalog.AddPhoto(c.UserContext(), p.ID, data, alt); err != nil {
			if ports.ErrorCodeOf(err) != ports.EINVALID {
				return err
			}
			msg := ports.ErrorMessageOf(err)
			if fe := ports.FieldErrorsOf(err); len(fe) > 0 {
				msg = fe[0].Message
			}
			problems = append(problems, fh.Filename+": "+msg)
			continue
		}
		added++
	}
	switch {
	case len(problems) > 0:
		msg := strings.Join(problems, " ")
		if added > 0 {
			msg = strconv.Itoa(added) + " photo(s) added. Not added: " + msg
		}
		h.flash(c, "error", msg)
	default:
		h.flash(c, "ok", strconv.Itoa(added)+" photo(s) added; thumbnails are being made.")
	}
	return h.redirect(c, "/admin/catalog/products/"+p.ID.String()+"#photos")
}

func (h *Handler) photoAction(c *fiber.Ctx, fn func(p *catalog.Product, photo uuid.UUID) error, done string) error {
	p, err := h.loadProduct(c)
	if err != nil {
		return err
	}
	photo, err := parseID(c, "photo", "photo")
	if err != nil {
		return err
	}
	if err := fn(p, photo); err != nil {
		switch ports.ErrorCodeOf(err) {
		case ports.EINVALID, ports.ENOTFOUND, ports.ECONFLICT:
			msg := ports.ErrorMessageOf(err)
			if fe := ports.FieldErrorsOf(err); len(fe) > 0 {
				msg = fe[0].Message
			}
			h.flash(c, "error", msg)
			return h.redirect(c, "/admin/catalog/products/"+p.ID.String()+"#photos")
		}
		return err
	}
	h.flash(c, "ok", done)
	return h.redirect(c, "/admin/catalog/products/"+p.ID.String()+"#photos")
}

func (h *Handler) movePhoto(c *fiber.Ctx) error {
	return h.photoAction(c, func(p *catalog.Product, photo uuid.UUID) error {
		order := make([]uuid.UUID, 0, len(p.Photos))
		at := -1
		for i, ph := range p.Photos {
			order = append(order, ph.ID)
			if ph.ID == photo {
				at = i
			}
		}
		if at < 0 {
			return ports.Errorf(ports.ENOTFOUND, "No such photo.")
		}
		to := at - 1
		if c.FormValue("dir") == "down" {
			to = at + 1
		}
		if to < 0 || to >= len(order) {
			return nil
		}
		order[at], order[to] = order[to], order[at]
		return h.d.Catalog.ReorderPhotos(c.UserContext(), p.ID, order)
	}, "Photos reordered.")
}

func (h *Handler) primaryPhoto(c *fiber.Ctx) error {
	return h.photoAction(c, func(p *catalog.Product, photo uuid.UUID) error {
		return h.d.Catalog.SetPrimaryPhoto(c.UserContext(), p.ID, photo)
	}, "Primary photo set.")
}

func (h *Handler) photoAlt(c *fiber.Ctx) error {
	return h.photoAction(c, func(p *catalog.Product, photo uuid.UUID) error {
		return h.d.Catalog.SetPhotoAlt(c.UserContext(), p.ID, photo, c.FormValue("alt"))
	}, "Alt text saved.")
}

func (h *Handler) deletePhoto(c *fiber.Ctx) error {
	return h.photoAction(c, func(p *catalog.Product, photo uuid.UUID) error {
		return h.d.Catalog.DeletePhoto(c.UserContext(), p.ID, photo)
	}, "Photo deleted.")
}
