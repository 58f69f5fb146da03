package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"orderdesk/modules/catalog"
	"orderdesk/ports"
)

// CatalogStore implements catalog.Store on the catalog schema.
type CatalogStore struct{ db *DB }

// NewCatalogStore returns the catalog store.
func NewCatalogStore(db *DB) *CatalogStore { return &CatalogStore{db: db} }

var _ catalog.Store = (*CatalogStore)(nil)

const categoryColumns = `c.id, c.name, c.slug, c.parent_id, c.position, c.visible, c.created_at, c.updated_at`

// ListCategories lists categories with product and child counts, parents first.
func (s *CatalogStore) ListCategories(ctx context.Context) ([]catalog.Category, error) {
	var out []catalog.Category
	err := s.db.SelectContext(ctx, &out, `SELECT `+categoryColumns+`,
		(SELECT count(*) FROM catalog.products p WHERE p.category_id = c.id) AS products,
		(SELECT count(*) FROM catalog.categories k WHERE k.parent_id = c.id) AS children
		FROM catalog.categories c LEFT JOIN catalog.categories parent ON parent.id = c.parent_id
		ORDER BY coalesce(parent.position, c.position), coalesce(lower(parent.name), lower(c.name)), coalesce(parent.id, c.id),
		         c.parent_id NULLS FIRST, c.position, lower(c.name)`)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return out, nil
}

// CategoryByID returns a category with its counts.
func (s *CatalogStore) CategoryByID(ctx context.Context, id uuid.UUID) (*catalog.Category, error) {
	var c catalog.Category
	err := s.db.GetContext(ctx, &c, `SELECT `+categoryColumns+`,
		(SELECT count(*) FROM catalog.products p WHERE p.category_id = c.id) AS products,
		(SELECT count(*) FROM catalog.categories k WHERE k.parent_id = c.id) AS children
		FROM catalog.categories c WHERE c.id = $1`, id)
	if err != nil {
		return nil, notFound(err, "No such category.")
	}
	return &c, nil
}

// CreateCategory inserts a category; a taken slug is ECONFLICT.
func (s *CatalogStore) CreateCategory(ctx context.Context, c *catalog.Category, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if c.ParentID != nil {
			// The parent must stay top-level while the child is added.
			if err := lockTopLevelParent(ctx, tx, *c.ParentID); err != nil {
				return err
			}
		}
		_, err := tx.NamedExecContext(ctx, `INSERT INTO catalog.categories (id, name, slug, parent_id, position, visible, created_at, updated_at)
			VALUES (:id, :name, :slug, :parent_id, :position, :visible, :created_at, :updated_at)`, c)
		if isUniqueViolation(err) {
			return ports.Errorf(ports.ECONFLICT, "The slug %s is taken.", c.Slug)
		}
		if err != nil {
			return fmt.Errorf("insert category: %w", err)
		}
		return insertAudit(ctx, tx, a)
	})
}

// UpdateCategory locks the category and saves fn's changes.
func (s *CatalogStore) UpdateCategory(ctx context.Context, id uuid.UUID, fn func(*catalog.Category, int) error, a ports.AuditEntry) (*catalog.Category, error) {
	var out *catalog.Category
	err := s.db.inTx(ctx, func(tx *Tx) error {
		var c catalog.Category
		if err := tx.GetContext(ctx, &c, `SELECT `+categoryColumns+` FROM catalog.categories c WHERE c.id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err, "No such category.")
		}
		var children int
		if err := tx.GetContext(ctx, &children, `SELECT count(*) FROM catalog.categories WHERE parent_id = $1`, id); err != nil {
			return err
		}
		if err := fn(&c, children); err != nil {
			return err
		}
		if c.ParentID != nil {
			// fn checked the parent as read before this transaction; check it again
			// under its lock, so that it cannot become a child meanwhile.
			if err := lockTopLevelParent(ctx, tx, *c.ParentID); err != nil {
				return err
			}
		}
		_, err := tx.NamedExecContext(ctx, `UPDATE catalog.categories SET name = :name, slug = :slug, parent_id = :parent_id,
			position = :position, visible = :visible, updated_at = :updated_at WHERE id = :id`, &c)
		if isUniqueViolation(err) {
			return ports.Errorf(ports.ECONFLICT, "The slug %s is taken.", c.Slug)
		}
		if err != nil {
			return fmt.Errorf("update category: %w", err)
		}
		out = &c
		return insertAudit(ctx, tx, a)
	})
	return out, err
}

// lockTopLevelParent locks the would-be parent of a category and checks that it
// exists and is top-level, so that one level of nesting holds under concurrency.
func lockTopLevelParent(ctx context.Context, tx *Tx, id uuid.UUID) error {
	var top bool
	err := tx.GetContext(ctx, &top, `SELECT parent_id IS NULL FROM catalog.categories WHERE id = $1 FOR UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.Invalid(ports.Field("parent_id", "Choose a parent from the list."))
	}
	if err != nil {
		return fmt.Errorf("lock parent category: %w", err)
	}
	if !top {
		return ports.Invalid(ports.Field("parent_id", "Choose a top-level category: categories nest one level deep."))
	}
	return nil
}

// DeleteCategory deletes a category, moving its products when asked.
func (s *CatalogStore) DeleteCategory(ctx context.Context, id uuid.UUID, moveTo *uuid.UUID, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		var c catalog.Category
		if err := tx.GetContext(ctx, &c, `SELECT `+categoryColumns+` FROM catalog.categories c WHERE c.id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err, "No such category.")
		}
		var children, products int
		if err := tx.GetContext(ctx, &children, `SELECT count(*) FROM catalog.categories WHERE parent_id = $1`, id); err != nil {
			return err
		}
		if children > 0 {
			return ports.Errorf(ports.ECONFLICT, "%s has %d sub-categories: delete or move them first.", c.Name, children)
		}
		if err := tx.GetContext(ctx, &products, `SELECT count(*) FROM catalog.products WHERE category_id = $1`, id); err != nil {
			return err
		}
		if products > 0 {
			if moveTo == nil {
				return ports.Errorf(ports.ECONFLICT, "%s still has %d products: choose a category to move them to.", c.Name, products)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE catalog.products SET category_id = $2, updated_at = now() WHERE category_id = $1`, id, *moveTo); err != nil {
				return fmt.Errorf("move products: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM catalog.categories WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete category: %w", err)
		}
		a.Detail = strings.TrimSpace(c.Name + " " + a.Detail)
		return insertAudit(ctx, tx, a)
	})
}

const productColumns = `p.id, p.name, p.description, p.category_id, p.sku, p.status, p.price_minor, p.weight_unit,
	p.weight_milli, p.shipping_weight_grams, p.track_stock, p.stock_on_hand, p.reserved, p.low_stock_threshold,
	p.times_ordered, p.created_at, p.updated_at`

// productSortExpr is the SQL of each sort key; it must match catalog.SortCursor.
var productSortExpr = map[catalog.ProductSort]string{
	catalog.SortName:    "lower(p.name)",
	catalog.SortPrice:   "p.price_minor",
	catalog.SortStock:   "(p.stock_on_hand - p.reserved)",
	catalog.SortUpdated: "p.updated_at",
}

func productWhere(f catalog.ProductFilter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Query != "" {
		add("(strpos(lower(p.name), lower($%[1]d)) > 0 OR lower(p.sku) = lower($%[1]d))", f.Query)
	}
	if f.CategoryID != nil {
		add("p.category_id = $%d", *f.CategoryID)
	}
	if f.Status != "" {
		add("p.status = $%d", string(f.Status))
	}
	if f.LowStock {
		where = append(where, "p.track_stock AND p.status <> 'archived' AND p.stock_on_hand - p.reserved <= p.low_stock_threshold")
	}
	return where, args
}

// ListProducts returns a keyset page of products for staff.
func (s *CatalogStore) ListProducts(ctx context.Context, f catalog.ProductFilter) ([]catalog.Product, error) {
	where, args := productWhere(f)
	expr := productSortExpr[f.Sort]
	op, dir := ">", "ASC"
	if f.Desc {
		op, dir = "<", "DESC"
	}
	if f.After != nil {
		var v any = f.After.Value
		switch f.Sort {
		case catalog.SortPrice, catalog.SortStock:
			n, err := strconv.ParseInt(f.After.Value, 10, 64)
			if err != nil {
				return nil, ports.Invalid(ports.Field("cursor", "The page link is out of date."))
			}
			v = n
		case catalog.SortUpdated:
			t, err := time.Parse(time.RFC3339Nano, f.After.Value)
			if err != nil {
				return nil, ports.Invalid(ports.Field("cursor", "The page link is out of date."))
			}
			v = t
		}
		args = append(args, v, f.After.ID)
		where = append(where, fmt.Sprintf("(%s, p.id) %s ($%d, $%d)", expr, op, len(args)-1, len(args)))
	}
	q := `SELECT ` + productColumns + ` FROM catalog.products p`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY %s %s, p.id %s LIMIT $%d", expr, dir, dir, len(args))
	var out []catalog.Product
	if err := s.db.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return out, s.attachPhotos(ctx, s.db, out, false)
}

// CountProducts counts the products a filter matches.
func (s *CatalogStore) CountProducts(ctx context.Context, f catalog.ProductFilter) (int, error) {
	where, args := productWhere(f)
	q := `SELECT count(*) FROM catalog.products p`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	var n int
	err := s.db.GetContext(ctx, &n, q, args...)
	return n, err
}

const photoColumns = `id, product_id, position, is_primary, alt, status, error, content_type, width, height, bytes,
	upload_key, original_key, web_key, thumb_key, created_at`

// attachPhotos loads the photos of ps in one query.
func (s *CatalogStore) attachPhotos(ctx context.Context, q sqlx.QueryerContext, ps []catalog.Product, readyOnly bool) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(ps))
	idx := make(map[uuid.UUID]int, len(ps))
	for i := range ps {
		ids[i] = ps[i].ID
		idx[ps[i].ID] = i
		ps[i].Photos = nil
	}
	cond := ""
	if readyOnly {
		cond = " AND status = 'ready'"
	}
	var photos []catalog.Photo
	if err := sqlx.SelectContext(ctx, q, &photos, `SELECT `+photoColumns+` FROM catalog.photos
		WHERE product_id = ANY($1)`+cond+` ORDER BY product_id, position, id`, ids); err != nil {
		return fmt.Errorf("photos: %w", err)
	}
	for _, ph := range photos {
		i := idx[ph.ProductID]
		ps[i].Photos = append(ps[i].Photos, ph)
	}
	return nil
}

// ProductByID returns a product with all its photos.
func (s *CatalogStore) ProductByID(ctx context.Context, id uuid.UUID) (*catalog.Product, error) {
	var p catalog.Product
	if err := s.db.GetContext(ctx, &p, `SELECT `+productColumns+` FROM catalog.products p WHERE p.id = $1`, id); err != nil {
		return nil, notFound(err, "No such product.")
	}
	ps := []catalog.Product{p}
	if err := s.attachPhotos(ctx, s.db, ps, false); err != nil {
		return nil, err
	}
	return &ps[0], nil
}

const insertMovement = `INSERT INTO catalog.stock_movements (product_id, delta, balance_after, reason, note, actor, created_at)
	VALUES (:product_id, :delta, :balance_after, :reason, :note, :actor, :created_at)`

// CreateProduct inserts a product and its initial stock movement; a taken SKU is
// ECONFLICT.
func (s *CatalogStore) CreateProduct(ctx context.Context, p *catalog.Product, initial *catalog.StockMovement, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.NamedExecContext(ctx, `INSERT INTO catalog.products (id, name, description, category_id, sku, status,
			price_minor, weight_unit, weight_milli, shipping_weight_grams, track_stock, stock_on_hand, reserved,
			low_stock_threshold, created_at, updated_at)
			VALUES (:id, :name, :description, :category_id, :sku, :status, :price_minor, :weight_unit, :weight_milli,
			:shipping_weight_grams, :track_stock, :stock_on_hand, 0, :low_stock_threshold, :created_at, :updated_at)`, p)
		if isUniqueViolation(err) {
			return ports.Errorf(ports.ECONFLICT, "The SKU is taken.")
		}
		if err != nil {
			return fmt.Errorf("insert product: %w", err)
		}
		if initial != nil {
			if _, err := tx.NamedExecContext(ctx, insertMovement, initial); err != nil {
				return fmt.Errorf("initial stock: %w", err)
			}
		}
		return insertAudit(ctx, tx, a)
	})
}

func lockProduct(ctx context.Context, tx *Tx, id uuid.UUID) (*catalog.Product, error) {
	var p catalog.Product
	if err := tx.GetContext(ctx, &p, `SELECT `+productColumns+` FROM catalog.products p WHERE p.id = $1 FOR UPDATE`, id); err != nil {
		return nil, notFound(err, "No such product.")
	}
	return &p, nil
}

// UpdateProduct locks the product and saves fn's changes.
func (s *CatalogStore) UpdateProduct(ctx context.Context, id uuid.UUID, fn func(*catalog.Product) error, a ports.AuditEntry) (*catalog.Product, error) {
	var out *catalog.Product
	err := s.db.inTx(ctx, func(tx *Tx) error {
		p, err := lockProduct(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		_, err = tx.NamedExecContext(ctx, `UPDATE catalog.products SET name = :name, description = :description,
			category_id = :category_id, sku = :sku, status = :status, price_minor = :price_minor, weight_unit = :weight_unit,
			weight_milli = :weight_milli, shipping_weight_grams = :shipping_weight_grams, track_stock = :track_stock,
			low_stock_threshold = :low_stock_threshold, updated_at = :updated_at WHERE id = :id`, p)
		if isUniqueViolation(err) {
			return ports.Errorf(ports.ECONFLICT, "The SKU is taken.")
		}
		if err != nil {
			return fmt.Errorf("update product: %w", err)
		}
		out = p
		return insertAudit(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	ps := []catalog.Product{*out}
	if err := s.attachPhotos(ctx, s.db, ps, false); err != nil {
		return nil, err
	}
	return &ps[0], nil
}

// DeleteProduct deletes or, when orders refer to it, archives a product.
func (s *CatalogStore) DeleteProduct(ctx context.Context, id uuid.UUID, a ports.AuditEntry) (bool, error) {
	archived := false
	err := s.db.inTx(ctx, func(tx *Tx) error {
		p, err := lockProduct(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.TimesOrdered > 0 || p.Reserved > 0 {
			archived = true
			if _, err := tx.ExecContext(ctx, `UPDATE catalog.products SET status = 'archived', updated_at = now() WHERE id = $1`, id); err != nil {
				return fmt.Errorf("archive product: %w", err)
			}
			a.Action, a.Detail = "product.archive", p.Name+" (orders refer to it)"
		} else {
			if _, err := tx.ExecContext(ctx, `DELETE FROM catalog.products WHERE id = $1`, id); err != nil {
				return fmt.Errorf("delete product: %w", err)
			}
			a.Detail = p.Name
		}
		return insertAudit(ctx, tx, a)
	})
	return archived, err
}

// AdjustStock records a stock movement chosen by fn under the product's lock.
func (s *CatalogStore) AdjustStock(ctx context.Context, id uuid.UUID, fn func(*catalog.Product) (catalog.StockMovement, error), a ports.AuditEntry) (*catalog.Product, error) {
	var out *catalog.Product
	err := s.db.inTx(ctx, func(tx *Tx) error {
		p, err := lockProduct(ctx, tx, id)
		if err != nil {
			return err
		}
		m, err := fn(p)
		if err != nil {
			return err
		}
		out = p
		if m.Delta == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog.products SET stock_on_hand = $2, updated_at = now() WHERE id = $1`, id, m.BalanceAfter); err != nil {
			return fmt.Errorf("adjust stock: %w", err)
		}
		if _, err := tx.NamedExecContext(ctx, insertMovement, &m); err != nil {
			return fmt.Errorf("stock movement: %w", err)
		}
		p.StockOnHand = m.BalanceAfter
		return insertAudit(ctx, tx, a)
	})
	return out, err
}

// Movements returns a product's latest movements, newest first.
func (s *CatalogStore) Movements(ctx context.Context, productID uuid.UUID, limit int) ([]catalog.StockMovement, error) {
	var out []catalog.StockMovement
	err := s.db.SelectContext(ctx, &out, `SELECT id, product_id, delta, balance_after, reason, note, actor, created_at
		FROM catalog.stock_movements WHERE product_id = $1 ORDER BY id DESC LIMIT $2`, productID, limit)
	return out, err
}

// CountLowStock counts tracked, non-archived products at or below their threshold.
// ProductNames returns the name of each of the products that exists.
func (s *CatalogStore) ProductNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	var rows []struct {
		ID   uuid.UUID `db:"id"`
		Name string    `db:"name"`
	}
	if err := sqlx.SelectContext(ctx, s.db.q(ctx), &rows, `SELECT id, name FROM catalog.products WHERE id = ANY($1)`, ids); err != nil {
		return nil, fmt.Errorf("product names: %w", err)
	}
	out := make(map[uuid.UUID]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

func (s *CatalogStore) CountLowStock(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM catalog.products
		WHERE track_stock AND status <> 'archived' AND stock_on_hand - reserved <= low_stock_threshold`)
	return n, err
}

// AddPhoto appends a photo to its product and queues its processing.
func (s *CatalogStore) AddPhoto(ctx context.Context, ph *catalog.Photo, job ports.Job, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := lockProduct(ctx, tx, ph.ProductID); err != nil {
			return err
		}
		var count, maxPos int
		if err := tx.QueryRowxContext(ctx, `SELECT count(*), coalesce(max(position), 0) FROM catalog.photos WHERE product_id = $1`,
			ph.ProductID).Scan(&count, &maxPos); err != nil {
			return err
		}
		if count >= catalog.MaxPhotosPerProduct {
			return ports.Invalid(ports.Field("photo", fmt.Sprintf("A product has at most %d photos.", catalog.MaxPhotosPerProduct)))
		}
		ph.Position, ph.Primary = maxPos+1, count == 0
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO catalog.photos (`+photoColumns+`) VALUES (:id, :product_id, :position,
			:is_primary, :alt, :status, :error, :content_type, :width, :height, :bytes, :upload_key, :original_key, :web_key,
			:thumb_key, :created_at)`, ph); err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
		if err := addJobs(ctx, tx, job); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

// PhotoByID returns a photo.
func (s *CatalogStore) PhotoByID(ctx context.Context, id uuid.UUID) (*catalog.Photo, error) {
	var ph catalog.Photo
	if err := s.db.GetContext(ctx, &ph, `SELECT `+photoColumns+` FROM catalog.photos WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "No such photo.")
	}
	return &ph, nil
}

// SavePhotoResult stores the outcome of processing a photo.
func (s *CatalogStore) SavePhotoResult(ctx context.Context, ph *catalog.Photo) error {
	_, err := s.db.NamedExecContext(ctx, `UPDATE catalog.photos SET status = :status, error = :error, content_type = :content_type,
		width = :width, height = :height, original_key = :original_key, web_key = :web_key, thumb_key = :thumb_key,
		upload_key = CASE WHEN :status = 'ready' THEN '' ELSE upload_key END WHERE id = :id`, ph)
	return err
}

// ReorderPhotos sets positions from order, which must list every photo once.
func (s *CatalogStore) ReorderPhotos(ctx context.Context, productID uuid.UUID, order []uuid.UUID, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := lockProduct(ctx, tx, productID); err != nil {
			return err
		}
		var ids []uuid.UUID
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM catalog.photos WHERE product_id = $1`, productID); err != nil {
			return err
		}
		have := map[uuid.UUID]bool{}
		for _, id := range ids {
			have[id] = true
		}
		seen := map[uuid.UUID]bool{}
		for _, id := range order {
			if !have[id] || seen[id] {
				return ports.Invalid(ports.Field("order", "The photos changed meanwhile; reload the page."))
			}
			seen[id] = true
		}
		if len(seen) != len(have) {
			return ports.Invalid(ports.Field("order", "The photos changed meanwhile; reload the page."))
		}
		for i, id := range order {
			if _, err := tx.ExecContext(ctx, `UPDATE catalog.photos SET position = $2 WHERE id = $1`, id, i+1); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, a)
	})
}

// SetPrimaryPhoto makes one photo primary.
func (s *CatalogStore) SetPrimaryPhoto(ctx context.Context, productID, photoID uuid.UUID, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := lockProduct(ctx, tx, productID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog.photos SET is_primary = false WHERE product_id = $1 AND is_primary`, productID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE catalog.photos SET is_primary = true WHERE product_id = $1 AND id = $2`, productID, photoID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ports.Errorf(ports.ENOTFOUND, "No such photo.")
		}
		return insertAudit(ctx, tx, a)
	})
}

// SetPhotoAlt changes a photo's alt text.
func (s *CatalogStore) SetPhotoAlt(ctx context.Context, productID, photoID uuid.UUID, alt string, a ports.AuditEntry) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE catalog.photos SET alt = $3 WHERE product_id = $1 AND id = $2`, productID, photoID, alt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ports.Errorf(ports.ENOTFOUND, "No such photo.")
		}
		return insertAudit(ctx, tx, a)
	})
}

// DeletePhoto removes a photo; the first remaining one becomes primary if needed.
func (s *CatalogStore) DeletePhoto(ctx context.Context, productID, photoID uuid.UUID, a ports.AuditEntry) (*catalog.Photo, error) {
	var ph catalog.Photo
	err := s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := lockProduct(ctx, tx, productID); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &ph, `DELETE FROM catalog.photos WHERE product_id = $1 AND id = $2 RETURNING `+photoColumns,
			productID, photoID); err != nil {
			return notFound(err, "No such photo.")
		}
		if ph.Primary {
			if _, err := tx.ExecContext(ctx, `UPDATE catalog.photos SET is_primary = true WHERE id =
				(SELECT id FROM catalog.photos WHERE product_id = $1 ORDER BY position, id LIMIT 1)`, productID); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return &ph, nil
}

// Version returns the catalog's version.
func (s *CatalogStore) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.GetContext(ctx, &v, `SELECT version FROM catalog.version`)
	return v, err
}

// PublicCategories lists visible categories whose parent (if any) is visible.
func (s *CatalogStore) PublicCategories(ctx context.Context) ([]catalog.Category, error) {
	var out []catalog.Category
	err := s.db.SelectContext(ctx, &out, `SELECT `+categoryColumns+`, 0 AS products, 0 AS children
		FROM catalog.categories c LEFT JOIN catalog.categories parent ON parent.id = c.parent_id
		WHERE c.visible AND (parent.id IS NULL OR parent.visible)
		ORDER BY coalesce(parent.position, c.position), coalesce(lower(parent.name), lower(c.name)), coalesce(parent.id, c.id),
		         c.parent_id NULLS FIRST, c.position, lower(c.name)`)
	return out, err
}

// publicCondition is what makes a product visible to client apps.
const publicCondition = `p.status = 'active' AND (p.category_id IS NULL OR EXISTS (
	SELECT 1 FROM catalog.categories c LEFT JOIN catalog.categories parent ON parent.id = c.parent_id
	WHERE c.id = p.category_id AND c.visible AND (parent.id IS NULL OR parent.visible)))`

// PublicProducts returns a keyset page (by name) of products on sale; a category
// filter includes its sub-categories.
func (s *CatalogStore) PublicProducts(ctx context.Context, f catalog.PublicFilter) ([]catalog.Product, error) {
	where := []string{publicCondition}
	var args []any
	add := func(cond string, v ...any) {
		n := len(args)
		args = append(args, v...)
		idx := make([]any, len(v))
		for i := range v {
			idx[i] = n + i + 1
		}
		where = append(where, fmt.Sprintf(cond, idx...))
	}
	if f.Query != "" {
		add("strpos(lower(p.name), lower($%d)) > 0", f.Query)
	}
	if f.CategoryID != nil {
		add("p.category_id IN (SELECT id FROM catalog.categories WHERE id = $%d OR parent_id = $%d)", *f.CategoryID, *f.CategoryID)
	}
	if f.After != nil {
		add("(lower(p.name), p.id) > ($%d, $%d)", f.After.Value, f.After.ID)
	}
	args = append(args, f.Limit)
	q := `SELECT ` + productColumns + ` FROM catalog.products p WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY lower(p.name), p.id LIMIT $%d`, len(args))
	var out []catalog.Product
	if err := s.db.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("public products: %w", err)
	}
	return out, s.attachPhotos(ctx, s.db, out, true)
}

// PublicProduct returns a product on sale.
func (s *CatalogStore) PublicProduct(ctx context.Context, id uuid.UUID) (*catalog.Product, error) {
	var p catalog.Product
	if err := s.db.GetContext(ctx, &p, `SELECT `+productColumns+` FROM catalog.products p WHERE p.id = $1 AND `+publicCondition, id); err != nil {
		return nil, notFound(err, "No such product.")
	}
	ps := []catalog.Product{p}
	if err := s.attachPhotos(ctx, s.db, ps, true); err != nil {
		return nil, err
	}
	return &ps[0], nil
}

// Reserve holds stock for an order (see catalog.Service.Reserve).
func (s *CatalogStore) Reserve(ctx context.Context, orderID uuid.UUID, lines []catalog.ReserveLine) ([]catalog.Product, error) {
	out := make([]catalog.Product, len(lines))
	err := s.db.inTx(ctx, func(tx *Tx) error {
		ids := make([]uuid.UUID, len(lines))
		for i, l := range lines {
			ids[i] = l.ProductID
		}
		// Lock every product at once, in id order, so that two orders sharing products
		// always lock them in the same order.
		var rows []catalog.Product
		if err := tx.SelectContext(ctx, &rows, `SELECT `+productColumns+`, (`+publicCondition+`) AS on_sale
			FROM catalog.products p WHERE p.id = ANY($1) ORDER BY p.id FOR UPDATE OF p`, ids); err != nil {
			return fmt.Errorf("lock products: %w", err)
		}
		byID := make(map[uuid.UUID]*catalog.Product, len(rows))
		for i := range rows {
			byID[rows[i].ID] = &rows[i]
		}
		var short []string
		for i, l := range lines {
			p, ok := byID[l.ProductID]
			if !ok || !p.OnSale {
				return ports.Invalid(ports.Field(fmt.Sprintf("items[%d].productId", i), "This product does not exist or is not on sale."))
			}
			if p.ShippingWeightGrams == nil {
				return ports.Invalid(ports.Field(fmt.Sprintf("items[%d].productId", i), "This product cannot be shipped yet."))
			}
			if p.TrackStock && p.StockOnHand-p.Reserved < l.Quantity {
				short = append(short, fmt.Sprintf("%s: %d available, %d asked", p.Name, max(p.StockOnHand-p.Reserved, 0), l.Quantity))
			}
			out[i] = *p
		}
		if len(short) > 0 {
			return ports.Errorf(ports.ECONFLICT, "Not enough stock: %s.", strings.Join(short, "; "))
		}
		qty := make([]int64, len(lines))
		for i, l := range lines {
			qty[i] = int64(l.Quantity)
		}
		// One statement for every line, counters and reservation rows together, sent
		// with the transaction's next one (the rows are locked already).
		tx.Later(`WITH v AS (SELECT * FROM unnest($2::uuid[], $3::bigint[]) AS v(id, qty)),
			upd AS (UPDATE catalog.products p
				SET reserved = p.reserved + CASE WHEN p.track_stock THEN v.qty ELSE 0 END, times_ordered = p.times_ordered + 1
				FROM v WHERE p.id = v.id RETURNING p.id, p.track_stock)
			INSERT INTO catalog.reservations (order_id, product_id, quantity, counted)
			SELECT $1, v.id, v.qty, upd.track_stock FROM v JOIN upd ON upd.id = v.id`, orderID, ids, qty)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Release gives back what an order holds; rows already released or committed are left
// alone, so releasing twice changes nothing.
func (s *CatalogStore) Release(ctx context.Context, orderID uuid.UUID) error {
	return s.db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `WITH released AS (
				UPDATE catalog.reservations SET status = 'released', updated_at = now()
				WHERE order_id = $1 AND status = 'held' RETURNING product_id, quantity, counted)
			UPDATE catalog.products p SET reserved = p.reserved - r.quantity
			FROM released r WHERE p.id = r.product_id AND r.counted`, orderID); err != nil {
			return fmt.Errorf("release: %w", err)
		}
		return nil
	})
}
