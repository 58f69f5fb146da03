package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// JobProcessPhoto is the job that makes a photo's renditions.
const JobProcessPhoto = "catalog:photo.process"

// ProductSort orders the staff's product list.
type ProductSort string

// The sort orders.
const (
	SortName    ProductSort = "name"
	SortPrice   ProductSort = "price"
	SortStock   ProductSort = "stock"
	SortUpdated ProductSort = "updated"
)

// ProductFilter selects products for the staff's list. After is an opaque keyset
// cursor from a previous page.
type ProductFilter struct {
	Query      string
	CategoryID *uuid.UUID
	Status     ProductStatus
	LowStock   bool
	Sort       ProductSort
	Desc       bool
	After      *Cursor
	Limit      int
}

// PublicFilter selects products for client apps: only active products in visible
// categories (or in none), ordered by name.
type PublicFilter struct {
	Query      string
	CategoryID *uuid.UUID
	After      *Cursor
	Limit      int
}

// Cursor is a keyset position: the sort value of the last row and its id.
type Cursor struct {
	Value string
	ID    uuid.UUID
}

// Store keeps the catalog. Writes that staff make record the audit entry they are
// given in the same transaction. Errors: ENOTFOUND for a missing row, ECONFLICT for a
// taken slug or SKU.
type Store interface {
	ListCategories(ctx context.Context) ([]Category, error)
	CategoryByID(ctx context.Context, id uuid.UUID) (*Category, error)
	CreateCategory(ctx context.Context, c *Category, a ports.AuditEntry) error
	// UpdateCategory locks the category, calls fn with it and its number of children,
	// and saves it unless fn fails; a parent it is given is locked and must stay
	// top-level until the change commits.
	UpdateCategory(ctx context.Context, id uuid.UUID, fn func(c *Category, children int) error, a ports.AuditEntry) (*Category, error)
	// DeleteCategory deletes a category that has no sub-categories. Its products move to
	// moveTo, or the deletion is refused (ECONFLICT) when it has products and moveTo is nil.
	DeleteCategory(ctx context.Context, id uuid.UUID, moveTo *uuid.UUID, a ports.AuditEntry) error

	ListProducts(ctx context.Context, f ProductFilter) ([]Product, error)
	CountProducts(ctx context.Context, f ProductFilter) (int, error)
	ProductByID(ctx context.Context, id uuid.UUID) (*Product, error)
	CreateProduct(ctx context.Context, p *Product, initial *StockMovement, a ports.AuditEntry) error
	UpdateProduct(ctx context.Context, id uuid.UUID, fn func(p *Product) error, a ports.AuditEntry) (*Product, error)
	// DeleteProduct deletes a product that no order ever referred to; one that orders
	// refer to is archived instead, and archived reports so.
	DeleteProduct(ctx context.Context, id uuid.UUID, a ports.AuditEntry) (archived bool, err error)
	// AdjustStock locks the product, asks fn for the movement, and records it.
	AdjustStock(ctx context.Context, id uuid.UUID, fn func(p *Product) (StockMovement, error), a ports.AuditEntry) (*Product, error)
	Movements(ctx context.Context, productID uuid.UUID, limit int) ([]StockMovement, error)
	CountLowStock(ctx context.Context) (int, error)

	// AddPhoto inserts a photo after the product's others (primary if it is the first)
	// and records job in the outbox, refusing a product that has MaxPhotosPerProduct.
	AddPhoto(ctx context.Context, ph *Photo, job ports.Job, a ports.AuditEntry) error
	PhotoByID(ctx context.Context, id uuid.UUID) (*Photo, error)
	// SavePhotoResult stores the outcome of processing.
	SavePhotoResult(ctx context.Context, ph *Photo) error
	ReorderPhotos(ctx context.Context, productID uuid.UUID, order []uuid.UUID, a ports.AuditEntry) error
	SetPrimaryPhoto(ctx context.Context, productID, photoID uuid.UUID, a ports.AuditEntry) error
	SetPhotoAlt(ctx context.Context, productID, photoID uuid.UUID, alt string, a ports.AuditEntry) error
	// DeletePhoto removes a photo (the next one becomes primary) and returns it.
	DeletePhoto(ctx context.Context, productID, photoID uuid.UUID, a ports.AuditEntry) (*Photo, error)

	// Reserve and Release implement the service methods of the same names.
	Reserve(ctx context.Context, orderID uuid.UUID, lines []ReserveLine) ([]Product, error)
	Release(ctx context.Context, orderID uuid.UUID) error
	// TakeReserved and ReturnTaken implement the service methods of the same names;
	// actor and note go into the movements.
	TakeReserved(ctx context.Context, orderID uuid.UUID, actor, note string) error
	ReturnTaken(ctx context.Context, orderID uuid.UUID, actor, note string) error
	// PrimaryPhotos returns the ready primary photo of each product that has one.
	PrimaryPhotos(ctx context.Context, productIDs []uuid.UUID) (map[uuid.UUID]Photo, error)
	// ProductNames returns the name of each of the products that exists.
	ProductNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)

	// Version is the catalog's version, bumped by every committed change.
	Version(ctx context.Context) (int64, error)
	PublicCategories(ctx context.Context) ([]Category, error)
	PublicProducts(ctx context.Context, f PublicFilter) ([]Product, error)
	PublicProduct(ctx context.Context, id uuid.UUID) (*Product, error)
}

// Service is the catalog module's application service.
type Service struct {
	store Store
	files ports.FileStore
	clock ports.Clock
}

// NewService returns the catalog service.
func NewService(store Store, files ports.FileStore, clock ports.Clock) *Service {
	return &Service{store: store, files: files, clock: clock}
}

// Categories lists every category, parents before their children.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	return s.store.ListCategories(ctx)
}

// Category returns one category.
func (s *Service) Category(ctx context.Context, id uuid.UUID) (*Category, error) {
	return s.store.CategoryByID(ctx, id)
}

func (s *Service) parent(ctx context.Context, id *uuid.UUID) (*Category, error) {
	if id == nil {
		return nil, nil
	}
	p, err := s.store.CategoryByID(ctx, *id)
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
		return nil, ports.Invalid(ports.Field("parent_id", "Choose a parent from the list."))
	}
	return p, err
}

func slugTaken(err error) error {
	if ports.ErrorCodeOf(err) == ports.ECONFLICT {
		return ports.Invalid(ports.Field("slug", "Another category has this slug; choose another."))
	}
	return err
}

// CreateCategory adds a category.
func (s *Service) CreateCategory(ctx context.Context, in CategoryInput) (*Category, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	parent, err := s.parent(ctx, in.ParentID)
	if err != nil {
		return nil, err
	}
	if err := CheckParent(uuid.Nil, parent, 0); err != nil {
		return nil, err
	}
	now := s.clock()
	c := &Category{ID: uuid.Must(uuid.NewV7()), Name: in.Name, Slug: in.Slug, ParentID: in.ParentID, Position: in.Position,
		Visible: in.Visible, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateCategory(ctx, c, ports.Audit(ctx, "category.create", "category", c.ID.String(), c.Name)); err != nil {
		return nil, slugTaken(err)
	}
	return c, nil
}

// UpdateCategory changes a category.
func (s *Service) UpdateCategory(ctx context.Context, id uuid.UUID, in CategoryInput) (*Category, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	parent, err := s.parent(ctx, in.ParentID)
	if err != nil {
		return nil, err
	}
	c, err := s.store.UpdateCategory(ctx, id, func(c *Category, children int) error {
		if err := CheckParent(c.ID, parent, children); err != nil {
			return err
		}
		c.Name, c.Slug, c.ParentID, c.Position, c.Visible, c.UpdatedAt = in.Name, in.Slug, in.ParentID, in.Position, in.Visible, s.clock()
		return nil
	}, ports.Audit(ctx, "category.update", "category", id.String(), in.Name))
	return c, slugTaken(err)
}

// DeleteCategory deletes a category, moving its products to moveTo when given.
func (s *Service) DeleteCategory(ctx context.Context, id uuid.UUID, moveTo *uuid.UUID) error {
	if moveTo != nil {
		if *moveTo == id {
			return ports.Invalid(ports.Field("move_to", "Choose another category to move the products to."))
		}
		if _, err := s.store.CategoryByID(ctx, *moveTo); err != nil {
			if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
				return ports.Invalid(ports.Field("move_to", "Choose a category from the list."))
			}
			return err
		}
	}
	detail := ""
	if moveTo != nil {
		detail = "products moved to " + moveTo.String()
	}
	return s.store.DeleteCategory(ctx, id, moveTo, ports.Audit(ctx, "category.delete", "category", id.String(), detail))
}

// Products lists products for staff. The second result is the cursor of the next
// page, or nil.
func (s *Service) Products(ctx context.Context, f ProductFilter) ([]Product, *Cursor, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 25
	}
	switch f.Sort {
	case SortName, SortPrice, SortStock, SortUpdated:
	default:
		f.Sort = SortName
	}
	f.Query = strings.ReplaceAll(f.Query, "\x00", "")
	want := f.Limit
	f.Limit++
	ps, err := s.store.ListProducts(ctx, f)
	return onePage(ps, err, want, f.Sort)
}

// CountProducts counts the products a filter matches.
func (s *Service) CountProducts(ctx context.Context, f ProductFilter) (int, error) {
	f.Query = strings.ReplaceAll(f.Query, "\x00", "")
	return s.store.CountProducts(ctx, f)
}

// onePage cuts a store's answer for want+1 rows down to want and makes the cursor of
// the next page when there is one.
func onePage(ps []Product, err error, want int, sort ProductSort) ([]Product, *Cursor, error) {
	if err != nil {
		return nil, nil, err
	}
	if len(ps) <= want {
		return ps, nil, nil
	}
	ps = ps[:want]
	return ps, SortCursor(&ps[want-1], sort), nil
}

// SortCursor is the keyset cursor after p in the given order.
func SortCursor(p *Product, sort ProductSort) *Cursor {
	c := &Cursor{ID: p.ID}
	switch sort {
	case SortPrice:
		c.Value = strconv.FormatInt(p.PriceMinor, 10)
	case SortStock:
		c.Value = strconv.Itoa(p.StockOnHand - p.Reserved)
	case SortUpdated:
		c.Value = p.UpdatedAt.UTC().Format(time.RFC3339Nano)
	default:
		c.Value = strings.ToLower(p.Name)
	}
	return c
}

// Product returns a product with its photos.
func (s *Service) Product(ctx context.Context, id uuid.UUID) (*Product, error) {
	return s.store.ProductByID(ctx, id)
}

func (s *Service) checkCategory(ctx context.Context, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	if _, err := s.store.CategoryByID(ctx, *id); err != nil {
		if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
			return ports.Invalid(ports.Field("category_id", "Choose a category from the list."))
		}
		return err
	}
	return nil
}

func skuTaken(err error) error {
	if ports.ErrorCodeOf(err) == ports.ECONFLICT {
		return ports.Invalid(ports.Field("sku", "Another product has this SKU."))
	}
	return err
}

// CreateProduct adds a product, with its initial stock as the first movement.
func (s *Service) CreateProduct(ctx context.Context, in ProductInput) (*Product, error) {
	f, err := in.Parse(true)
	if err != nil {
		return nil, err
	}
	if err := s.checkCategory(ctx, f.CategoryID); err != nil {
		return nil, err
	}
	now := s.clock()
	p := &Product{ID: uuid.Must(uuid.NewV7()), CreatedAt: now, UpdatedAt: now}
	f.Apply(p)
	var initial *StockMovement
	if f.TrackStock && f.InitialStock > 0 {
		p.StockOnHand = f.InitialStock
		initial = &StockMovement{ProductID: p.ID, Delta: f.InitialStock, BalanceAfter: f.InitialStock, Reason: ReasonInitial,
			Actor: ports.ActorFrom(ctx).Name, CreatedAt: now}
	}
	if err := s.store.CreateProduct(ctx, p, initial, ports.Audit(ctx, "product.create", "product", p.ID.String(), p.Name)); err != nil {
		return nil, skuTaken(err)
	}
	return p, nil
}

// UpdateProduct changes a product's fields (not its stock).
func (s *Service) UpdateProduct(ctx context.Context, id uuid.UUID, in ProductInput) (*Product, error) {
	f, err := in.Parse(false)
	if err != nil {
		return nil, err
	}
	if err := s.checkCategory(ctx, f.CategoryID); err != nil {
		return nil, err
	}
	p, err := s.store.UpdateProduct(ctx, id, func(p *Product) error {
		if !f.TrackStock && p.TrackStock && p.Reserved > 0 {
			return ports.Invalid(ports.Field("track_stock", "Open orders have reserved this product; keep tracking its stock until they are done."))
		}
		f.Apply(p)
		p.UpdatedAt = s.clock()
		return nil
	}, ports.Audit(ctx, "product.update", "product", id.String(), f.Name))
	return p, skuTaken(err)
}

// SetStatus is the list's quick edit of a product's status.
func (s *Service) SetStatus(ctx context.Context, id uuid.UUID, status ProductStatus) (*Product, error) {
	if !status.Valid() {
		return nil, ports.Invalid(ports.Field("status", "Choose active, inactive or archived."))
	}
	return s.store.UpdateProduct(ctx, id, func(p *Product) error {
		if status == StatusActive && p.ShippingWeightGrams == nil {
			return ports.Invalid(ports.Field("status", "Enter a shipping weight before putting this product on sale."))
		}
		p.Status, p.UpdatedAt = status, s.clock()
		return nil
	}, ports.Audit(ctx, "product.status", "product", id.String(), string(status)))
}

// DeleteProduct deletes a product with its photos' files, or archives it when orders
// refer to it.
func (s *Service) DeleteProduct(ctx context.Context, id uuid.UUID) (archived bool, err error) {
	p, err := s.store.ProductByID(ctx, id)
	if err != nil {
		return false, err
	}
	archived, err = s.store.DeleteProduct(ctx, id, ports.Audit(ctx, "product.delete", "product", id.String(), ""))
	if err != nil || archived {
		return archived, err
	}
	for _, ph := range p.Photos {
		for _, k := range []string{ph.UploadKey, ph.OriginalKey, ph.WebKey, ph.ThumbKey} {
			if k != "" {
				_ = s.files.Delete(ctx, k)
			}
		}
	}
	return false, nil
}

// AdjustStock changes stock on hand by delta for a reason.
func (s *Service) AdjustStock(ctx context.Context, id uuid.UUID, delta int, reason StockReason, note string) (*Product, error) {
	note = strings.TrimSpace(note)
	return s.store.AdjustStock(ctx, id, func(p *Product) (StockMovement, error) {
		if err := CheckAdjustment(p, delta, reason, note); err != nil {
			return StockMovement{}, err
		}
		return StockMovement{ProductID: id, Delta: delta, BalanceAfter: p.StockOnHand + delta, Reason: reason, Note: note,
			Actor: ports.ActorFrom(ctx).Name, CreatedAt: s.clock()}, nil
	}, ports.Audit(ctx, "product.stock", "product", id.String(), fmt.Sprintf("%+d %s %s", delta, reason, note)))
}

// SetStock is the list's quick edit: stock on hand becomes count, recorded as a
// correction.
func (s *Service) SetStock(ctx context.Context, id uuid.UUID, count int) (*Product, error) {
	if count < 0 || count > StockMax {
		return nil, ports.Invalid(ports.Field("stock", "Enter a whole number of units from 0 to 1000000."))
	}
	return s.store.AdjustStock(ctx, id, func(p *Product) (StockMovement, error) {
		delta := count - p.StockOnHand
		if delta == 0 {
			return StockMovement{}, nil
		}
		if err := CheckAdjustment(p, delta, ReasonCorrection, ""); err != nil {
			return StockMovement{}, ports.Invalid(ports.Field("stock", ports.FieldErrorsOf(err)[0].Message))
		}
		return StockMovement{ProductID: id, Delta: delta, BalanceAfter: count, Reason: ReasonCorrection,
			Actor: ports.ActorFrom(ctx).Name, CreatedAt: s.clock()}, nil
	}, ports.Audit(ctx, "product.stock", "product", id.String(), fmt.Sprintf("set to %d", count)))
}

// Movements returns a product's latest stock movements.
func (s *Service) Movements(ctx context.Context, id uuid.UUID) ([]StockMovement, error) {
	return s.store.Movements(ctx, id, 100)
}

// CountLowStock counts tracked products at or below their threshold.
func (s *Service) CountLowStock(ctx context.Context) (int, error) { return s.store.CountLowStock(ctx) }

// ProductNames returns the names of several products at once (a page of another
// module's list that shows them); missing ids are left out.
func (s *Service) ProductNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	if len(ids) == 0 {
		return map[uuid.UUID]string{}, nil
	}
	return s.store.ProductNames(ctx, ids)
}

type photoJob struct {
	PhotoID uuid.UUID `json:"photoId"`
}

// AddPhoto checks an upload (type by content, size, pixel count), keeps it privately
// and queues the job that makes the served renditions.
func (s *Service) AddPhoto(ctx context.Context, productID uuid.UUID, data []byte, alt string) (*Photo, error) {
	alt, err := NormalizeAlt(alt)
	if err != nil {
		return nil, err
	}
	info, err := InspectPhoto(data)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.ProductByID(ctx, productID); err != nil {
		return nil, err
	}
	ph := &Photo{ID: uuid.Must(uuid.NewV7()), ProductID: productID, Alt: alt, Status: PhotoProcessing,
		ContentType: info.ContentType, Width: info.Width, Height: info.Height, Bytes: int64(len(data)), CreatedAt: s.clock()}
	ph.UploadKey = PhotoKey(ph.ID, "upload")
	if _, err := s.files.Put(ctx, ph.UploadKey, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	payload, _ := json.Marshal(photoJob{PhotoID: ph.ID})
	job := ports.Job{ID: JobProcessPhoto + ":" + ph.ID.String(), Type: JobProcessPhoto, Payload: payload, Queue: ports.QueueDefault, MaxRetry: 10}
	if err := s.store.AddPhoto(ctx, ph, job, ports.Audit(ctx, "product.photo.add", "product", productID.String(), ph.ID.String())); err != nil {
		_ = s.files.Delete(ctx, ph.UploadKey)
		return nil, err
	}
	return ph, nil
}

// ProcessPhotoJob makes a photo's metadata-free renditions. It is idempotent: a photo
// already processed, or deleted meanwhile, is left alone; an image that cannot be
// decoded marks the photo failed rather than retrying forever.
func (s *Service) ProcessPhotoJob(ctx context.Context, payload []byte) error {
	var j photoJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("photo job payload: %w", err)
	}
	ph, err := s.store.PhotoByID(ctx, j.PhotoID)
	if ports.ErrorCodeOf(err) == ports.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if ph.Status != PhotoProcessing {
		return nil
	}
	r, _, err := s.files.Open(ctx, ph.UploadKey)
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(r, PhotoMaxBytes+1))
	r.Close()
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	out, err := ProcessPhoto(data)
	if err != nil {
		if ports.ErrorCodeOf(err) == ports.EINVALID {
			ph.Status, ph.Error = PhotoFailed, ports.ErrorMessageOf(err)
			if fe := ports.FieldErrorsOf(err); len(fe) > 0 {
				ph.Error = fe[0].Message
			}
			return s.store.SavePhotoResult(ctx, ph)
		}
		return err
	}
	for _, r := range []struct {
		name string
		key  *string
		data []byte
		ct   string
	}{
		{"original", &ph.OriginalKey, out.Original.Data, out.Original.ContentType},
		{"web", &ph.WebKey, out.Web.Data, out.Web.ContentType},
		{"thumb", &ph.ThumbKey, out.Thumb.Data, out.Thumb.ContentType},
	} {
		key := PhotoKey(ph.ID, r.name+extension(r.ct))
		if _, err := s.files.Put(ctx, key, bytes.NewReader(r.data)); err != nil {
			return fmt.Errorf("store %s: %w", r.name, err)
		}
		*r.key = key
	}
	ph.Status, ph.ContentType, ph.Width, ph.Height = PhotoReady, out.Original.ContentType, out.Original.Width, out.Original.Height
	if err := s.store.SavePhotoResult(ctx, ph); err != nil {
		return err
	}
	return s.files.Delete(ctx, ph.UploadKey)
}

func extension(contentType string) string {
	if contentType == "image/png" {
		return ".png"
	}
	return ".jpg"
}

// Photo returns one photo.
func (s *Service) Photo(ctx context.Context, id uuid.UUID) (*Photo, error) {
	return s.store.PhotoByID(ctx, id)
}

// ReorderPhotos puts a product's photos in the given order (every photo, once).
func (s *Service) ReorderPhotos(ctx context.Context, productID uuid.UUID, order []uuid.UUID) error {
	return s.store.ReorderPhotos(ctx, productID, order, ports.Audit(ctx, "product.photo.reorder", "product", productID.String(), ""))
}

// SetPrimaryPhoto makes a photo the product's primary one.
func (s *Service) SetPrimaryPhoto(ctx context.Context, productID, photoID uuid.UUID) error {
	return s.store.SetPrimaryPhoto(ctx, productID, photoID, ports.Audit(ctx, "product.photo.primary", "product", productID.String(), photoID.String()))
}

// SetPhotoAlt changes a photo's alt text.
func (s *Service) SetPhotoAlt(ctx context.Context, productID, photoID uuid.UUID, alt string) error {
	alt, err := NormalizeAlt(alt)
	if err != nil {
		return err
	}
	return s.store.SetPhotoAlt(ctx, productID, photoID, alt, ports.Audit(ctx, "product.photo.alt", "product", productID.String(), photoID.String()))
}

// DeletePhoto removes a photo and its files.
func (s *Service) DeletePhoto(ctx context.Context, productID, photoID uuid.UUID) error {
	ph, err := s.store.DeletePhoto(ctx, productID, photoID, ports.Audit(ctx, "product.photo.delete", "product", productID.String(), photoID.String()))
	if err != nil {
		return err
	}
	for _, k := range []string{ph.UploadKey, ph.OriginalKey, ph.WebKey, ph.ThumbKey} {
		if k != "" {
			_ = s.files.Delete(ctx, k)
		}
	}
	return nil
}

// OpenPhoto opens a rendition of a ready photo for serving.
func (s *Service) OpenPhoto(ctx context.Context, id uuid.UUID, r Rendition) (io.ReadSeekCloser, ports.FileInfo, *Photo, error) {
	ph, err := s.store.PhotoByID(ctx, id)
	if err != nil {
		return nil, ports.FileInfo{}, nil, err
	}
	key := ph.Key(r)
	if ph.Status != PhotoReady || key == "" {
		return nil, ports.FileInfo{}, nil, ports.Errorf(ports.ENOTFOUND, "This photo is not ready.")
	}
	f, info, err := s.files.Open(ctx, key)
	return f, info, ph, err
}

// Version is the catalog's current version (for caching client API responses).
func (s *Service) Version(ctx context.Context) (int64, error) { return s.store.Version(ctx) }

// PublicCategories lists the visible categories for client apps.
func (s *Service) PublicCategories(ctx context.Context) ([]Category, error) {
	return s.store.PublicCategories(ctx)
}

// PublicProducts lists products on sale, by name. The second result is the cursor of
// the next page, or nil.
func (s *Service) PublicProducts(ctx context.Context, f PublicFilter) ([]Product, *Cursor, error) {
	if f.Limit <= 0 {
		f.Limit = 20
	}
	if f.Limit > 100 {
		f.Limit = 100
	}
	f.Query = strings.ReplaceAll(f.Query, "\x00", "")
	want := f.Limit
	f.Limit++
	ps, err := s.store.PublicProducts(ctx, f)
	return onePage(ps, err, want, SortName)
}

// PublicProduct returns a product on sale, ENOTFOUND otherwise.
func (s *Service) PublicProduct(ctx context.Context, id uuid.UUID) (*Product, error) {
	return s.store.PublicProduct(ctx, id)
}

// ReserveLine asks for a quantity of a product for an order.
type ReserveLine struct {
	ProductID uuid.UUID
	Quantity  int
}

// Reserve holds stock for an order, all lines or none: every product must be on sale
// (active, in a visible category) and, when its stock is tracked, have the quantity
// available. It returns the products as they are now, in the order asked, for the
// order to snapshot. Errors: EINVALID naming "items[i].productId" for a product that
// cannot be sold, ECONFLICT when stock is short. It joins the caller's transaction;
// rows are locked in a fixed order so that concurrent orders cannot deadlock or
// oversell.
func (s *Service) Reserve(ctx context.Context, orderID uuid.UUID, lines []ReserveLine) ([]Product, error) {
	return s.store.Reserve(ctx, orderID, lines)
}

// Release gives back the stock an order holds. Releasing twice is a no-op.
func (s *Service) Release(ctx context.Context, orderID uuid.UUID) error {
	return s.store.Release(ctx, orderID)
}
