package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"orderdesk/adapters/postgres"
)

// The page query a client's GET /api/v1/products?limit=50 makes, for the direct
// reference: the first page of products on sale by name, and their ready photos.
const (
	directProducts = `SELECT p.id, p.name, p.description, p.category_id, p.sku, p.status, p.price_minor, p.weight_unit,
	p.weight_milli, p.shipping_weight_grams, p.track_stock, p.stock_on_hand, p.reserved, p.low_stock_threshold,
	p.times_ordered, p.created_at, p.updated_at FROM catalog.products p
	WHERE p.status = 'active' AND (p.category_id IS NULL OR EXISTS (
	SELECT 1 FROM catalog.categories c LEFT JOIN catalog.categories parent ON parent.id = c.parent_id
	WHERE c.id = p.category_id AND c.visible AND (parent.id IS NULL OR parent.visible)))
	ORDER BY lower(p.name), p.id LIMIT 51`
	directPhotos = `SELECT id, product_id, position, is_primary, alt, status, error, content_type, width, height, bytes,
	upload_key, original_key, web_key, thumb_key, created_at FROM catalog.photos
	WHERE product_id = ANY($1) AND status = 'ready' ORDER BY product_id, position, id`
)

func benchCatalog(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	duration := fs.Duration("duration", 20*time.Second, "length of each load run")
	conns := fs.Int("conns", 64, "concurrent connections")
	products := fs.Int("products", 10000, "products to load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env, err := newBenchEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	dbURL, db := env.dbURL, env.db
	if err := seedBenchCatalog(ctx, db, *products); err != nil {
		return err
	}
	srv, apiKey, err := env.serve(ctx, "serve", nil)
	if err != nil {
		return err
	}
	defer srv.stop()
	url := srv.url + "/api/v1/products?limit=50"
	get := httpGetter(*conns, url, http.Header{"Authorization": {"Bearer " + apiKey}})
	if err := get(); err != nil {
		return fmt.Errorf("first request: %w", err)
	}
	load(*conns, 2*time.Second, get) // warm up
	header := http.Header{"Authorization": {"Bearer " + apiKey}}
	api, usedWrk, err := wrk(*conns, *duration, url, header)
	if err != nil {
		return err
	}
	generator := "wrk"
	if !usedWrk {
		generator = "go"
		api = load(*conns, *duration, get)
	}
	rss := srv.rssMB()

	pool, err := pgxpool.New(ctx, dbURL+"&pool_max_conns=20")
	if err != nil {
		return err
	}
	defer pool.Close()
	query := func() error {
		rows, err := pool.Query(ctx, directProducts)
		if err != nil {
			return err
		}
		var ids [][16]byte
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, vals[0].([16]byte))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		prow, err := pool.Query(ctx, directPhotos, ids)
		if err != nil {
			return err
		}
		for prow.Next() {
			if _, err := prow.Values(); err != nil {
				prow.Close()
				return err
			}
		}
		prow.Close()
		return prow.Err()
	}
	if err := query(); err != nil {
		return fmt.Errorf("direct query: %w", err)
	}
	load(*conns, 2*time.Second, query)
	direct := load(*conns, *duration, query)

	if api.errors > 0 || direct.errors > 0 {
		fmt.Printf("errors: api=%d direct=%d\n", api.errors, direct.errors)
	}
	fmt.Printf("load generator: %s, %d connections, %s per run\n", generator, *conns, *duration)
	fmt.Printf("catalog: api=%.0f direct=%.0f ratio=%.2f p99=%.1f rss=%.0f\n",
		api.rate(), direct.rate(), api.rate()/direct.rate(), float64(api.p99.Microseconds())/1000, rss)
	return nil
}

// seedBenchCatalog loads n active products in a few visible categories, each with two
// ready photo rows, in a handful of statements.
func seedBenchCatalog(ctx context.Context, db *postgres.DB, n int) error {
	stmts := []string{
		`INSERT INTO catalog.categories (id, name, slug, position, visible)
		 SELECT gen_random_uuid(), 'Category ' || i, 'category-' || i, i, true FROM generate_series(1, 20) i`,
		fmt.Sprintf(`INSERT INTO catalog.products (id, name, description, category_id, sku, status, price_minor, weight_unit,
		 weight_milli, shipping_weight_grams, track_stock, stock_on_hand, low_stock_threshold)
		 SELECT gen_random_uuid(), 'Product ' || md5(i::text), 'A product for the benchmark, number ' || i || '.',
		  (SELECT id FROM catalog.categories ORDER BY position OFFSET (i %% 20) LIMIT 1), 'SKU-' || i, 'active',
		  100 + i, 'grams', 250000, 250, true, 100, 5
		 FROM generate_series(1, %d) i`, n),
		`INSERT INTO catalog.photos (id, product_id, position, is_primary, alt, status, content_type, width, height,
		  original_key, web_key, thumb_key)
		 SELECT gen_random_uuid(), p.id, k, k = 1, 'Photo ' || k, 'ready', 'image/jpeg', 1600, 1200,
		  'photos/x/original.jpg', 'photos/x/web.jpg', 'photos/x/thumb.jpg'
		 FROM catalog.products p, generate_series(1, 2) k`,
		`ANALYZE`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}
