package catalog

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// PhotoStatus tracks a photo through processing: the upload is kept privately until a
// job has made the metadata-free renditions that are served.
type PhotoStatus string

// The photo statuses.
const (
	PhotoProcessing PhotoStatus = "processing"
	PhotoReady      PhotoStatus = "ready"
	PhotoFailed     PhotoStatus = "failed"
)

// Photo is one picture of a product.
type Photo struct {
	ID          uuid.UUID   `db:"id"`
	ProductID   uuid.UUID   `db:"product_id"`
	Position    int         `db:"position"`
	Primary     bool        `db:"is_primary"`
	Alt         string      `db:"alt"`
	Status      PhotoStatus `db:"status"`
	Error       string      `db:"error"`
	ContentType string      `db:"content_type"`
	Width       int         `db:"width"`
	Height      int         `db:"height"`
	Bytes       int64       `db:"bytes"`
	UploadKey   string      `db:"upload_key"`
	OriginalKey string      `db:"original_key"`
	WebKey      string      `db:"web_key"`
	ThumbKey    string      `db:"thumb_key"`
	CreatedAt   time.Time   `db:"created_at"`
}

// PhotoAltMax limits the alt text.
const PhotoAltMax = 300

// MaxPhotosPerProduct keeps a product page sane.
const MaxPhotosPerProduct = 20

// NormalizeAlt trims alt text and checks its length.
func NormalizeAlt(alt string) (string, error) {
	alt = strings.TrimSpace(alt)
	if utf8.RuneCountInString(alt) > PhotoAltMax || hasControl(alt) {
		return "", ports.Invalid(ports.Field("alt", "Alt text has at most 300 characters on one line."))
	}
	return alt, nil
}

// Rendition names the served versions of a photo.
type Rendition string

// The renditions.
const (
	RenditionOriginal Rendition = "original"
	RenditionWeb      Rendition = "web"
	RenditionThumb    Rendition = "thumb"
)

// Key returns the file-store key of rendition r, "" while the photo is not ready.
func (p *Photo) Key(r Rendition) string {
	switch r {
	case RenditionOriginal:
		return p.OriginalKey
	case RenditionThumb:
		return p.ThumbKey
	}
	return p.WebKey
}

// PhotoKey builds the file-store key of a file of a photo.
func PhotoKey(id uuid.UUID, name string) string { return "photos/" + id.String() + "/" + name }

// URLPath is the public path the media route serves rendition r of the photo at.
func (p *Photo) URLPath(r Rendition) string {
	ext := ".jpg"
	if strings.HasSuffix(p.Key(r), ".png") {
		ext = ".png"
	}
	return "/media/photos/" + p.ID.String() + "/" + string(r) + ext
}
