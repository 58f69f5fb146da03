package catalog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"orderdesk/ports"
)

// Limits on an uploaded photo. Both are checked before the image is decoded, so a
// small file that claims an enormous canvas (a decompression bomb) costs nothing.
const (
	PhotoMaxBytes  = 10 << 20
	PhotoMaxPixels = 40_000_000
)

// The longest side, in pixels, of the scaled renditions. Smaller images are never
// scaled up.
const (
	PhotoWebMaxSide   = 1600
	PhotoThumbMaxSide = 400
)

// The content types of photos. Uploads may be any of the three; renditions are only
// ever JPEG or PNG.
const (
	PhotoTypeJPEG = "image/jpeg"
	PhotoTypePNG  = "image/png"
	PhotoTypeWebP = "image/webp"
)

const photoJPEGQuality = 85

// PhotoInfo is what InspectPhoto learns from a photo's header.
type PhotoInfo struct {
	ContentType string
	Width       int
	Height      int
}

// PhotoRendition is one re-encoded version of a photo, free of any metadata.
type PhotoRendition struct {
	Data        []byte
	ContentType string
	Width       int
	Height      int
}

// PhotoRenditions are the versions of a photo that are stored and served. Renditions
// of the same size may share Data; treat it as read-only.
type PhotoRenditions struct {
	Original PhotoRendition
	Web      PhotoRendition
	Thumb    PhotoRendition
}

// InspectPhoto checks an upload without decoding it: the type by its content (the
// file name is never trusted), the size in bytes, and the pixel count read from the
// image header. Every rejection is an EINVALID error on the field "photo" with a
// message for the person who uploaded it.
func InspectPhoto(data []byte) (PhotoInfo, error) {
	if len(data) > PhotoMaxBytes {
		return PhotoInfo{}, photoInvalid(fmt.Sprintf("This file is %.1f MB; a photo can be at most %d MB.",
			float64(len(data))/(1<<20), PhotoMaxBytes>>20))
	}
	if len(data) == 0 {
		return PhotoInfo{}, photoInvalid("This file is empty.")
	}
	ct := photoSniff(data)
	var cfg image.Config
	var err error
	switch ct {
	case PhotoTypeJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case PhotoTypePNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case PhotoTypeWebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	default:
		return PhotoInfo{}, photoInvalid("This file is not a JPEG, PNG or WebP image.")
	}
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return PhotoInfo{}, photoDamaged()
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > PhotoMaxPixels {
		return PhotoInfo{}, photoInvalid(fmt.Sprintf("This image is %d × %d pixels (%.1f megapixels); a photo can be at most %d megapixels.",
			cfg.Width, cfg.Height, float64(px)/1e6, PhotoMaxPixels/1_000_000))
	}
	return PhotoInfo{ContentType: ct, Width: cfg.Width, Height: cfg.Height}, nil
}

// ProcessPhoto decodes a photo that passes InspectPhoto, turns it upright by its EXIF
// Orientation (JPEG only) and re-encodes it as the Original, Web and Thumb renditions.
// Re-encoding is what strips the metadata: no EXIF (so no GPS position), XMP, ICC
// profile or text chunk survives. JPEG stays JPEG and PNG stays PNG; WebP becomes PNG
// when it has transparency and JPEG otherwise. Errors are EINVALID for a photo that
// cannot be used, as from InspectPhoto.
func ProcessPhoto(data []byte) (PhotoRenditions, error) {
	info, err := InspectPhoto(data)
	if err != nil {
		return PhotoRenditions{}, err
	}
	var img image.Image
	r := bytes.NewReader(data)
	switch info.ContentType {
	case PhotoTypeJPEG:
		img, err = jpeg.Decode(r)
	case PhotoTypePNG:
		img, err = png.Decode(r)
	default:
		img, err = webp.Decode(r)
	}
	if err != nil || img.Bounds().Dx() != info.Width || img.Bounds().Dy() != info.Height {
		return PhotoRenditions{}, photoDamaged()
	}

	out := PhotoTypePNG
	switch info.ContentType {
	case PhotoTypeJPEG:
		out = PhotoTypeJPEG
		img = photoOrient(img, photoJPEGOrientation(data))
	case PhotoTypeWebP:
		if photoOpaque(img) {
			out = PhotoTypeJPEG
		}
	}

	var rs PhotoRenditions
	if rs.Original, err = photoEncode(img, out); err != nil {
		return PhotoRenditions{}, err
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	web := img
	if ww, wh := photoFit(w, h, PhotoWebMaxSide); ww != w || wh != h {
		web = photoScale(img, ww, wh)
		if rs.Web, err = photoEncode(web, out); err != nil {
			return PhotoRenditions{}, err
		}
	} else {
		rs.Web = rs.Original
	}
	// The thumbnail is scaled from the web rendition: cheaper, and just as sharp.
	if tw, th := photoFit(w, h, PhotoThumbMaxSide); tw != web.Bounds().Dx() || th != web.Bounds().Dy() {
		if rs.Thumb, err = photoEncode(photoScale(web, tw, th), out); err != nil {
			return PhotoRenditions{}, err
		}
	} else {
		rs.Thumb = rs.Web
	}
	return rs, nil
}

func photoInvalid(msg string) error { return ports.Invalid(ports.Field("photo", msg)) }

func photoDamaged() error {
	return photoInvalid("This image is damaged or incomplete and cannot be read.")
}

// photoSniff names the type of data by its magic bytes, or returns "".
func photoSniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return PhotoTypeJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PhotoTypePNG
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return PhotoTypeWebP
	}
	return ""
}

// photoFit returns the size of a w×h image scaled to fit in a square of the given
// side, keeping its aspect ratio and never enlarging it.
func photoFit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, photoScaleSide(h, side, w)
	}
	return photoScaleSide(w, side, h), side
}

// photoScaleSide returns side·num/den rounded to the nearest pixel, at least 1.
func photoScaleSide(side, num, den int) int {
	n := (2*side*num + den) / (2 * den)
	if n < 1 {
		return 1
	}
	return n
}

// photoScale resamples src to w×h with the Catmull-Rom filter. The destination is
// premultiplied RGBA, so transparent pixels do not bleed colour into their neighbours.
func photoScale(src image.Image, w, h int) image.Image {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

func photoEncode(img image.Image, contentType string) (PhotoRendition, error) {
	var buf bytes.Buffer
	var err error
	if contentType == PhotoTypeJPEG {
		switch img.(type) {
		case *image.YCbCr, *image.Gray, *image.RGBA:
			// The encoder has fast paths for these.
		default:
			img = photoRGBA(img)
		}
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: photoJPEGQuality})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		return PhotoRendition{}, fmt.Errorf("encode photo: %w", err)
	}
	b := img.Bounds()
	return PhotoRendition{Data: buf.Bytes(), ContentType: contentType, Width: b.Dx(), Height: b.Dy()}, nil
}

// photoOpaque reports whether every pixel of img is fully opaque.
func photoOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xFFFF {
				return false
			}
		}
	}
	return true
}

// photoRGBA returns img as an *image.RGBA whose bounds start at the origin.
func photoRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

// photoOrient returns img as it should be displayed given its EXIF orientation o:
// 1 upright, 2 mirrored, 3 upside down, 4 mirrored upside down, 5 transposed,
// 6 needing a quarter turn clockwise, 7 transversed, 8 needing a quarter turn
// anticlockwise. Any other value leaves img alone.
func photoOrient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	src := photoRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			s, d := sy*src.Stride+4*sx, y*dst.Stride+4*x
			copy(dst.Pix[d:d+4], src.Pix[s:s+4])
		}
	}
	return dst
}

// photoJPEGOrientation returns the EXIF Orientation (1–8) of a JPEG, read from its
// first APP1 Exif segment, or 1 when there is none or the EXIF is malformed.
func photoJPEGOrientation(data []byte) int {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			return 1
		}
		marker := data[p+1]
		switch {
		case marker == 0xFF: // fill byte
			p++
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image: no more metadata
			return 1
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8: // no length
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return photoTIFFOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

// photoTIFFOrientation reads tag 0x0112 (Orientation) from IFD0 of a TIFF structure
// in either byte order, returning 1 when it is missing or not a value from 1 to 8.
func photoTIFFOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	entries := t[off+2:]
	n = min(n, len(entries)/12)
	for i := range n {
		e := entries[12*i : 12*i+12]
		if bo.Uint16(e) != 0x0112 {
			continue
		}
		var v uint32
		switch typ, count := bo.Uint16(e[2:]), bo.Uint32(e[4:]); {
		case count != 1:
			return 1
		case typ == 3: // SHORT, as the standard says
			v = uint32(bo.Uint16(e[8:]))
		case typ == 4: // LONG, written by some software
			v = bo.Uint32(e[8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
