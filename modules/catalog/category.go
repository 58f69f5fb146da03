// Package catalog is the module for what the shop sells: categories, products with
// their photos, prices and weights, and stock with its movements and reservations.
package catalog

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"orderdesk/ports"
)

// Category groups products. Categories nest one level: a category either has a
// parent or has children, never both, so a cycle cannot form.
type Category struct {
	ID        uuid.UUID  `db:"id"`
	Name      string     `db:"name"`
	Slug      string     `db:"slug"`
	ParentID  *uuid.UUID `db:"parent_id"`
	Position  int        `db:"position"`
	Visible   bool       `db:"visible"`
	CreatedAt time.Time  `db:"created_at"`
	UpdatedAt time.Time  `db:"updated_at"`
	// Products and Children are counts, filled by listings.
	Products int `db:"products"`
	Children int `db:"children"`
}

// Field limits of a category.
const (
	CategoryNameMax = 100
	SlugMax         = 100
)

// Slugify derives a URL slug from a name: lower-case ASCII letters and digits joined
// by single hyphens, accents folded ("Crème brûlée" → "creme-brulee").
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(slugFold.Replace(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // combining accent
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= SlugMax {
			break
		}
	}
	s := b.String()
	if len(s) > SlugMax {
		s = strings.TrimRight(s[:SlugMax], "-")
	}
	return s
}

// slugFold spells out the letters that do not decompose into an ASCII letter and an
// accent.
var slugFold = strings.NewReplacer("ß", "ss", "æ", "ae", "Æ", "AE", "ø", "o", "Ø", "O", "œ", "oe", "Œ", "OE",
	"ł", "l", "Ł", "L", "đ", "d", "Đ", "D", "þ", "th", "Þ", "TH")

// ValidSlug reports whether s is a slug as Slugify makes them.
func ValidSlug(s string) bool {
	if s == "" || len(s) > SlugMax || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// CategoryInput is what staff enter for a category.
type CategoryInput struct {
	Name     string
	Slug     string // empty: derived from the name
	ParentID *uuid.UUID
	Position int
	Visible  bool
}

// Normalize trims the input and derives the slug when it is empty.
func (in *CategoryInput) Normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	if in.Slug == "" {
		in.Slug = Slugify(in.Name)
	}
}

// Validate checks the fields that need no database.
func (in *CategoryInput) Validate() error {
	var errs []ports.FieldError
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		errs = append(errs, ports.Field("name", "Enter a name."))
	case n > CategoryNameMax:
		errs = append(errs, ports.Field("name", "A name has at most 100 characters."))
	case hasControl(in.Name):
		errs = append(errs, ports.Field("name", "A name cannot contain control characters."))
	}
	if !ValidSlug(in.Slug) {
		errs = append(errs, ports.Field("slug", "Use lower-case letters, digits and single hyphens (at most 100)."))
	}
	if in.Position < -100000 || in.Position > 100000 {
		errs = append(errs, ports.Field("position", "Use a position between -100000 and 100000."))
	}
	return ports.Invalid(errs...)
}

// CheckParent applies the nesting rule to category id (uuid.Nil when new) getting
// parent: the parent must exist, be a top-level category, not be the category itself,
// and a category that has children cannot become a child.
func CheckParent(id uuid.UUID, parent *Category, children int) error {
	if parent == nil {
		return nil
	}
	switch {
	case parent.ID == id:
		return ports.Invalid(ports.Field("parent_id", "A category cannot be its own parent."))
	case parent.ParentID != nil:
		return ports.Invalid(ports.Field("parent_id", "Choose a top-level category: categories nest one level deep."))
	case children > 0:
		return ports.Invalid(ports.Field("parent_id", "This category has sub-categories, so it must stay top-level."))
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
