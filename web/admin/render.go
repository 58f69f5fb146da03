package admin

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"orderdesk/modules/catalog"
	"orderdesk/ports"
)

// renderer holds one template set per page: the layout and the partials, cloned, plus
// the page. Pages define "title" and "content"; the layout defines "layout".
type renderer struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"datetime": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 MST")
		case *time.Time:
			if v == nil {
				return "never"
			}
			return v.UTC().Format("2006-01-02 15:04 MST")
		}
		return ""
	},
	"money": func(minor int64) string { return ports.FormatMinor(minor, "GBP") },
	"deref": func(p any) any {
		switch v := p.(type) {
		case *string:
			if v != nil {
				return *v
			}
		case *int:
			if v != nil {
				return *v
			}
		}
		return ""
	},
	"mediaPath": func(ph catalog.Photo, r string) string { return ph.URLPath(catalog.Rendition(r)) },
	"str":       func(v any) string { return fmt.Sprint(v) },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}

func newRenderer(fsys fs.FS) (*renderer, error) {
	base := template.New("base").Funcs(funcs)
	partials, err := fs.Glob(fsys, "partials/*.html")
	if err != nil {
		return nil, err
	}
	base, err = base.ParseFS(fsys, append([]string{"layout.html"}, partials...)...)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	r := &renderer{pages: map[string]*template.Template{}}
	err = fs.WalkDir(fsys, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" {
			return err
		}
		t, err := template.Must(base.Clone()).ParseFS(fsys, p)
		if err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		r.pages[strings.TrimSuffix(strings.TrimPrefix(p, "pages/"), ".html")] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// render writes page with status: the "content" block alone for an htmx request that
// is not boosted (a fragment swap), else the whole layout.
func (r *renderer) render(c *fiber.Ctx, status int, page string, v *view) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("no template %q", page)
	}
	block := "layout"
	if c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" {
		block = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	c.Vary("HX-Request")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(buf.Bytes())
}
