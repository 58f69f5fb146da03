package web

import (
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"orderdesk/modules/catalog"
)

// media serves product photos: /media/photos/{id}/{web|thumb|original}.{jpg|png}. A
// photo's files never change under their key, so they are cached for a year; the
// ETag is the content hash.
func media(cat *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := uuid.Parse(c.Params("id"))
		if err != nil {
			return fiber.NewError(fiber.StatusNotFound, "No such photo.")
		}
		name, _, _ := strings.Cut(c.Params("file"), ".")
		r := catalog.Rendition(name)
		switch r {
		case catalog.RenditionWeb, catalog.RenditionThumb, catalog.RenditionOriginal:
		default:
			return fiber.NewError(fiber.StatusNotFound, "No such photo.")
		}
		f, info, ph, err := cat.OpenPhoto(c.UserContext(), id, r)
		if err != nil {
			return err
		}
		defer f.Close()
		etag := `"` + info.ETag + `"`
		c.Set(fiber.HeaderETag, etag)
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		if c.Get(fiber.HeaderIfNoneMatch) == etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		ct := "image/jpeg"
		if strings.HasSuffix(ph.Key(r), ".png") {
			ct = "image/png"
		}
		c.Set(fiber.HeaderContentType, ct)
		b, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		return c.Send(b)
	}
}
