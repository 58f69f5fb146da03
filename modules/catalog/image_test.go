package catalog

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/webp"

	"orderdesk/ports"
)

// Images are made by the tests. The two WebP files in testdata come from
// golang.org/x/image's own test data (encoded by libwebp), because there is no WebP
// encoder in Go; photoTestWebP makes further lossless ones.

// photoTestImage is a w×h image with a gradient, so that scaling and encoding have
// something to work on.
func photoTestImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(x*255/w), uint8(y*255/h), 128, 255
		}
	}
	return m
}

// photoTestQuadrants is a w×h image with a red top left, green top right, blue bottom
// left and white bottom right quarter.
func photoTestQuadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := photoTestCorner[2*(2*y/h)+2*x/w]
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
	return m
}

// photoTestCorner lists the quadrant colours: top left, top right, bottom left,
// bottom right.
var photoTestCorner = [4]color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}}

// photoTestNearest returns the index in photoTestCorner of the colour nearest to c:
// JPEG is lossy, so colours are recognised, not compared.
func photoTestNearest(c color.Color) int {
	r, g, b, _ := c.RGBA()
	best, bestD := 0, int64(-1)
	for i, q := range photoTestCorner {
		dr, dg, db := int64(r>>8)-int64(q.R), int64(g>>8)-int64(q.G), int64(b>>8)-int64(q.B)
		if d := dr*dr + dg*dg + db*db; bestD < 0 || d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

func photoTestJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func photoTestPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// photoTestJPEGSegment is a JPEG marker segment: FF marker, length, payload.
func photoTestJPEGSegment(marker byte, payload []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// photoTestWithSegments inserts segments right after a JPEG's SOI marker.
func photoTestWithSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// photoTestOrder is binary.LittleEndian or binary.BigEndian.
type photoTestOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type photoTestTIFFEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte // in the TIFF's byte order; more than 4 bytes go out of line
}

// photoTestTIFF builds a TIFF structure with IFD0 and, when gps is not nil, a GPS IFD
// that IFD0 points to with tag 0x8825 (GPSInfo).
func photoTestTIFF(bo photoTestOrder, ifd0, gps []photoTestTIFFEntry) []byte {
	n0 := len(ifd0)
	if gps != nil {
		n0++
	}
	gpsOff := 8 + 2 + 12*n0 + 4
	dataOff := gpsOff
	if gps != nil {
		dataOff += 2 + 12*len(gps) + 4
	}
	out := make([]byte, 8, 256)
	if bo == binary.LittleEndian {
		copy(out, "II")
	} else {
		copy(out, "MM")
	}
	bo.PutUint16(out[2:], 42)
	bo.PutUint32(out[4:], 8)
	var data []byte
	writeIFD := func(entries []photoTestTIFFEntry) {
		out = bo.AppendUint16(out, uint16(len(entries)))
		for _, e := range entries {
			out = bo.AppendUint16(out, e.tag)
			out = bo.AppendUint16(out, e.typ)
			out = bo.AppendUint32(out, e.count)
			if len(e.data) <= 4 {
				out = append(out, append(e.data, make([]byte, 4-len(e.data))...)...)
				continue
			}
			out = bo.AppendUint32(out, uint32(dataOff+len(data)))
			data = append(data, e.data...)
			if len(data)%2 == 1 {
				data = append(data, 0)
			}
		}
		out = bo.AppendUint32(out, 0) // no next IFD
	}
	if gps != nil {
		ifd0 = append(ifd0, photoTestTIFFEntry{0x8825, 4, 1, bo.AppendUint32(nil, uint32(gpsOff))})
	}
	writeIFD(ifd0)
	if gps != nil {
		writeIFD(gps)
	}
	return append(out, data...)
}

// photoTestLatitude is 51° 30' 26.47" as three TIFF rationals: GPS bytes that must
// not survive processing.
func photoTestLatitude(bo photoTestOrder) []byte {
	var b []byte
	for _, v := range []uint32{51, 1, 30, 1, 2647, 100} {
		b = bo.AppendUint32(b, v)
	}
	return b
}

// photoTestExif builds an APP1 Exif payload with a camera make, the orientation and a
// GPS IFD holding a latitude.
func photoTestExif(bo photoTestOrder, orientation uint16) []byte {
	ifd0 := []photoTestTIFFEntry{
		{0x010F, 2, 10, []byte("SecretCam\x00")}, // Make
		{0x0112, 3, 1, bo.AppendUint16(nil, orientation)},
	}
	gps := []photoTestTIFFEntry{
		{0x0001, 2, 2, []byte("N\x00")}, // GPSLatitudeRef
		{0x0002, 5, 3, photoTestLatitude(bo)},
	}
	return append([]byte("Exif\x00\x00"), photoTestTIFF(bo, ifd0, gps)...)
}

// photoTestOrientationExif builds an APP1 Exif payload with only an orientation.
func photoTestOrientationExif(bo photoTestOrder, orientation uint16) []byte {
	return append([]byte("Exif\x00\x00"),
		photoTestTIFF(bo, []photoTestTIFFEntry{{0x0112, 3, 1, bo.AppendUint16(nil, orientation)}}, nil)...)
}

func photoTestPNGChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[4:]))
}

// photoTestWithPNGChunks inserts chunks right after a PNG's IHDR chunk.
func photoTestWithPNGChunks(p []byte, chunks ...[]byte) []byte {
	const afterIHDR = 8 + 4 + 4 + 13 + 4
	out := append([]byte{}, p[:afterIHDR]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[afterIHDR:]...)
}

// photoTestPNGBomb is a valid-looking PNG whose IHDR claims w×h RGBA pixels, followed
// by a tiny IDAT: decoding it fully would allocate w·h·4 bytes.
func photoTestPNGBomb(t testing.TB, w, h uint32) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, deflate, adaptive filter, no interlace
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, photoTestPNGChunk("IHDR", ihdr)...)
	out = append(out, photoTestPNGChunk("IDAT", z.Bytes())...)
	return append(out, photoTestPNGChunk("IEND", nil)...)
}

// photoTestWithJPEGSize rewrites the size in a baseline JPEG's SOF0 header.
func photoTestWithJPEGSize(t testing.TB, jpg []byte, w, h uint16) []byte {
	t.Helper()
	out := append([]byte{}, jpg...)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

// photoTestWebP encodes a w×h lossless WebP (VP8L) of one colour: every Huffman code
// has a single symbol, so the pixels take no bits at all.
func photoTestWebP(w, h int, c color.NRGBA) []byte {
	var bits []byte
	var acc uint64
	var n uint
	put := func(v uint64, width uint) {
		acc |= v << n
		n += width
		for n >= 8 {
			bits = append(bits, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	put(0x2F, 8) // VP8L signature
	put(uint64(w-1), 14)
	put(uint64(h-1), 14)
	alpha := uint64(0)
	if c.A != 255 {
		alpha = 1
	}
	put(alpha, 1)
	put(0, 3) // version
	put(0, 1) // no transform
	put(0, 1) // no colour cache
	put(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A} {
		put(1, 1) // simple code
		put(0, 1) // one symbol
		put(1, 1) // of 8 bits
		put(uint64(sym), 8)
	}
	put(1, 1) // distance: simple code
	put(0, 1) // one symbol
	put(0, 1) // of 1 bit
	put(0, 1)
	if n > 0 {
		bits = append(bits, byte(acc))
	}
	if len(bits)%2 == 1 {
		bits = append(bits, 0)
	}
	chunk := append([]byte("VP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(bits)))...)
	chunk = append(chunk, bits...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

func photoTestRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// photoTestMessage checks that err is EINVALID on the field "photo" and returns the
// field's message.
func photoTestMessage(t testing.TB, err error) string {
	t.Helper()
	if ports.ErrorCodeOf(err) != ports.EINVALID {
		t.Fatalf("error = %v, want EINVALID", err)
	}
	fe := ports.FieldErrorsOf(err)
	if len(fe) != 1 || fe[0].Field != "photo" || fe[0].Message == "" {
		t.Fatalf("field errors = %+v, want one on photo", fe)
	}
	return fe[0].Message
}

// photoTestDecode decodes a rendition and checks that it is what it says it is.
func photoTestDecode(t testing.TB, what string, r PhotoRendition) image.Image {
	t.Helper()
	var img image.Image
	var err error
	switch r.ContentType {
	case PhotoTypeJPEG:
		img, err = jpeg.Decode(bytes.NewReader(r.Data))
	case PhotoTypePNG:
		img, err = png.Decode(bytes.NewReader(r.Data))
	default:
		t.Fatalf("%s: content type %q", what, r.ContentType)
	}
	if err != nil {
		t.Fatalf("%s: decode %s: %v", what, r.ContentType, err)
	}
	if b := img.Bounds(); b.Dx() != r.Width || b.Dy() != r.Height {
		t.Fatalf("%s: data is %dx%d, rendition says %dx%d", what, b.Dx(), b.Dy(), r.Width, r.Height)
	}
	return img
}

// photoTestJPEGMarkers lists the markers of a JPEG's segments before its scan data.
func photoTestJPEGMarkers(t testing.TB, data []byte) []byte {
	t.Helper()
	var markers []byte
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			t.Fatalf("no marker at %d", p)
		}
		m := data[p+1]
		markers = append(markers, m)
		if m == 0xDA {
			return markers
		}
		p += 2 + int(binary.BigEndian.Uint16(data[p+2:]))
	}
	t.Fatal("no start of scan")
	return nil
}

// photoTestPNGChunkTypes lists the chunk types of a PNG.
func photoTestPNGChunkTypes(t testing.TB, data []byte) []string {
	t.Helper()
	var types []string
	for p := 8; p+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[p:]))
		types = append(types, string(data[p+4:p+8]))
		p += 12 + n
	}
	return types
}

func photoTestAll(r PhotoRenditions) map[string]PhotoRendition {
	return map[string]PhotoRendition{"original": r.Original, "web": r.Web, "thumb": r.Thumb}
}

func TestInspectPhotoTypeByContent(t *testing.T) {
	img := photoTestImage(30, 20)
	for _, tc := range []struct {
		name string
		data []byte
		want PhotoInfo
	}{
		// What the uploader called the file plays no part: a PNG named photo.jpg is a PNG.
		{"PNG named photo.jpg", photoTestPNG(t, img), PhotoInfo{PhotoTypePNG, 30, 20}},
		{"JPEG named photo.png", photoTestJPEG(t, img), PhotoInfo{PhotoTypeJPEG, 30, 20}},
		{"lossless WebP", photoTestRead(t, "gopher-doc.1bpp.lossless.webp"), PhotoInfo{PhotoTypeWebP, 75, 100}},
		{"lossy WebP", photoTestRead(t, "blue-purple-pink.lossy.webp"), PhotoInfo{PhotoTypeWebP, 150, 100}},
		{"generated WebP", photoTestWebP(7, 3, color.NRGBA{1, 2, 3, 255}), PhotoInfo{PhotoTypeWebP, 7, 3}},
		{"exactly the pixel limit", photoTestPNGBomb(t, 8000, 5000), PhotoInfo{PhotoTypePNG, 8000, 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InspectPhoto(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("InspectPhoto = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestInspectPhotoRejects(t *testing.T) {
	validPNG := photoTestPNG(t, photoTestImage(10, 10))
	big := make([]byte, 11<<20)
	copy(big, validPNG) // a real PNG header: only the size is wrong
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"text", []byte("name,price\nmug,12.50\n"), []string{"not a JPEG, PNG or WebP"}},
		{"empty", nil, []string{"empty"}},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), []string{"not a JPEG, PNG or WebP"}},
		{"WAV", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"), []string{"not a JPEG, PNG or WebP"}},
		{"11 MB", big, []string{"11.0 MB", "at most 10 MB"}},
		{"PNG signature only", validPNG[:8], []string{"damaged"}},
		{"JPEG without a frame", []byte{0xFF, 0xD8, 0xFF, 0xD9}, []string{"damaged"}},
		{"WebP header only", []byte("RIFF\x04\x00\x00\x00WEBP"), []string{"damaged"}},
		{"one pixel over the limit", photoTestPNGBomb(t, 8000, 5001), []string{"8000 × 5001", "at most 40 megapixels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := InspectPhoto(tc.data)
			msg := photoTestMessage(t, err)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			// ProcessPhoto refuses the same way.
			_, err = ProcessPhoto(tc.data)
			if got := photoTestMessage(t, err); got != msg {
				t.Errorf("ProcessPhoto message %q, InspectPhoto %q", got, msg)
			}
		})
	}
}

// TestPhotoDecompressionBombs checks that images whose headers claim too many pixels
// are refused from the header alone, without allocating the pixels.
func TestPhotoDecompressionBombs(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		size string
	}{
		{"PNG 20000×20000", photoTestPNGBomb(t, 20000, 20000), "20000 × 20000"},
		{"JPEG 65000×65000", photoTestWithJPEGSize(t, photoTestJPEG(t, photoTestImage(16, 16)), 65000, 65000), "65000 × 65000"},
		{"WebP 16384×16384", photoTestWebP(16384, 16384, color.NRGBA{9, 9, 9, 255}), "16384 × 16384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, errInspect := InspectPhoto(tc.data)
			_, errProcess := ProcessPhoto(tc.data)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)

			for _, err := range []error{errInspect, errProcess} {
				msg := photoTestMessage(t, err)
				if !strings.Contains(msg, tc.size) || !strings.Contains(msg, "at most 40 megapixels") {
					t.Errorf("message %q should name the size %s and the 40 megapixel limit", msg, tc.size)
				}
			}
			if elapsed > time.Second {
				t.Errorf("took %v: the image was decoded", elapsed)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("allocated %d bytes: the image was decoded", alloc)
			}
		})
	}
}

func TestProcessPhotoStripsJPEGMetadata(t *testing.T) {
	t.Parallel()
	for _, bo := range []photoTestOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			xmp := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), `<x:xmpmeta><exif:GPSLatitude>51,30.44N</exif:GPSLatitude></x:xmpmeta>`...)
			icc := append([]byte("ICC_PROFILE\x00\x01\x01"), "sRGB IEC61966-2.1"...)
			data := photoTestWithSegments(photoTestJPEG(t, photoTestImage(1700, 100)),
				photoTestJPEGSegment(0xE1, photoTestExif(bo, 1)),
				photoTestJPEGSegment(0xE1, xmp),
				photoTestJPEGSegment(0xE2, icc),
				photoTestJPEGSegment(0xFE, []byte("comment: shot at home")),
			)
			secrets := [][]byte{[]byte("Exif"), photoTestLatitude(bo), []byte("SecretCam"), []byte("ns.adobe.com"), []byte("GPSLatitude"), []byte("ICC_PROFILE"), []byte("shot at home")}
			for _, s := range secrets {
				if !bytes.Contains(data, s) {
					t.Fatalf("the input lacks %q: the test is broken", s)
				}
			}

			out, err := ProcessPhoto(data)
			if err != nil {
				t.Fatal(err)
			}
			sizes := map[string][2]int{"original": {1700, 100}, "web": {1600, 94}, "thumb": {400, 24}}
			for name, r := range photoTestAll(out) {
				if r.ContentType != PhotoTypeJPEG {
					t.Errorf("%s: content type %q, want JPEG", name, r.ContentType)
				}
				if got := [2]int{r.Width, r.Height}; got != sizes[name] {
					t.Errorf("%s: %v, want %v", name, got, sizes[name])
				}
				photoTestDecode(t, name, r)
				for _, s := range secrets {
					if bytes.Contains(r.Data, s) {
						t.Errorf("%s still contains %q", name, s)
					}
				}
				for _, m := range photoTestJPEGMarkers(t, r.Data) {
					if m >= 0xE0 && m <= 0xEF || m == 0xFE {
						t.Errorf("%s has an APP%d or comment segment (marker %#x)", name, m-0xE0, m)
					}
				}
			}
		})
	}
}

func TestProcessPhotoStripsPNGMetadata(t *testing.T) {
	data := photoTestWithPNGChunks(photoTestPNG(t, photoTestImage(300, 200)),
		photoTestPNGChunk("tEXt", []byte("Author\x00Jane at 10 Acacia Avenue")),
		photoTestPNGChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>GPS</x:xmpmeta>")),
		photoTestPNGChunk("eXIf", photoTestExif(binary.BigEndian, 1)[6:]),
		photoTestPNGChunk("tIME", []byte{0x07, 0xE8, 1, 2, 3, 4, 5}),
	)
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("the input is not a valid PNG: %v", err)
	}
	out, err := ProcessPhoto(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range photoTestAll(out) {
		if r.ContentType != PhotoTypePNG {
			t.Errorf("%s: content type %q, want PNG", name, r.ContentType)
		}
		photoTestDecode(t, name, r)
		for _, typ := range photoTestPNGChunkTypes(t, r.Data) {
			switch typ {
			case "IHDR", "PLTE", "tRNS", "IDAT", "IEND":
			default:
				t.Errorf("%s has a %s chunk", name, typ)
			}
		}
		for _, s := range []string{"Acacia", "xmpmeta", "MM\x00\x2a"} {
			if bytes.Contains(r.Data, []byte(s)) {
				t.Errorf("%s still contains %q", name, s)
			}
		}
	}
}

func TestProcessPhotoOrientation6(t *testing.T) {
	// A 40×20 photo taken with the camera turned: red on the left, blue on the right.
	src := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := range 20 {
		for x := range 40 {
			c := photoTestCorner[0]
			if x >= 20 {
				c = photoTestCorner[2]
			}
			src.SetRGBA(x, y, c)
		}
	}
	data := photoTestWithSegments(photoTestJPEG(t, src), photoTestJPEGSegment(0xE1, photoTestExif(binary.BigEndian, 6)))
	if info, err := InspectPhoto(data); err != nil || info.Width != 40 || info.Height != 20 {
		t.Fatalf("InspectPhoto = %+v, %v; want the stored 40×20", info, err)
	}
	out, err := ProcessPhoto(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range photoTestAll(out) {
		img := photoTestDecode(t, name, r)
		if r.Width != 20 || r.Height != 40 {
			t.Fatalf("%s is %d×%d, want 20×40", name, r.Width, r.Height)
		}
		// Turned a quarter clockwise, the left (red) comes to the top.
		if got := photoTestNearest(img.At(10, 5)); got != 0 {
			t.Errorf("%s: top is %v, want red", name, photoTestCorner[got])
		}
		if got := photoTestNearest(img.At(10, 35)); got != 2 {
			t.Errorf("%s: bottom is %v, want blue", name, photoTestCorner[got])
		}
	}
}

// photoTestCorners says, for each orientation, which source quadrant (index into
// photoTestCorner) is displayed at the top left and the top right, as the EXIF
// standard defines the orientations.
var photoTestCorners = map[int][2]int{
	1: {0, 1}, // as stored
	2: {1, 0}, // mirrored left to right
	3: {3, 2}, // upside down
	4: {2, 3}, // mirrored top to bottom
	5: {0, 2}, // transposed
	6: {2, 0}, // turned a quarter clockwise
	7: {3, 1}, // transversed
	8: {1, 3}, // turned a quarter anticlockwise
}

func TestProcessPhotoAllOrientations(t *testing.T) {
	jpg := photoTestJPEG(t, photoTestQuadrants(64, 32))
	for o := 1; o <= 8; o++ {
		for _, bo := range []photoTestOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(fmt.Sprintf("%d/%s", o, bo), func(t *testing.T) {
				out, err := ProcessPhoto(photoTestWithSegments(jpg, photoTestJPEGSegment(0xE1, photoTestOrientationExif(bo, uint16(o)))))
				if err != nil {
					t.Fatal(err)
				}
				img := photoTestDecode(t, "original", out.Original)
				w, h := 64, 32
				if o >= 5 {
					w, h = 32, 64
				}
				if out.Original.Width != w || out.Original.Height != h {
					t.Fatalf("size %d×%d, want %d×%d", out.Original.Width, out.Original.Height, w, h)
				}
				got := [2]int{photoTestNearest(img.At(3, 3)), photoTestNearest(img.At(w-4, 3))}
				if got != photoTestCorners[o] {
					t.Errorf("top corners are quadrants %v, want %v", got, photoTestCorners[o])
				}
			})
		}
	}
}

// TestPhotoOrientExact checks every orientation pixel by pixel (no JPEG in the way)
// on an image with a distinct colour per pixel.
func TestPhotoOrientExact(t *testing.T) {
	const w, h = 5, 3
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			src.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 0, 255})
		}
	}
	// where[o] maps a displayed pixel (x, y) of a dw×dh result to its stored pixel.
	where := map[int]func(x, y int) (int, int){
		1: func(x, y int) (int, int) { return x, y },
		2: func(x, y int) (int, int) { return w - 1 - x, y },
		3: func(x, y int) (int, int) { return w - 1 - x, h - 1 - y },
		4: func(x, y int) (int, int) { return x, h - 1 - y },
		5: func(x, y int) (int, int) { return y, x },
		6: func(x, y int) (int, int) { return y, h - 1 - x },
		7: func(x, y int) (int, int) { return w - 1 - y, h - 1 - x },
		8: func(x, y int) (int, int) { return w - 1 - y, x },
	}
	for o := 0; o <= 9; o++ {
		got := photoOrient(src, o)
		f, ok := where[o]
		if !ok { // out of range: untouched
			if got != image.Image(src) {
				t.Errorf("orientation %d changed the image", o)
			}
			continue
		}
		dw, dh := w, h
		if o >= 5 {
			dw, dh = h, w
		}
		if b := got.Bounds(); b != image.Rect(0, 0, dw, dh) {
			t.Fatalf("orientation %d: bounds %v, want %dx%d", o, b, dw, dh)
		}
		for y := range dh {
			for x := range dw {
				sx, sy := f(x, y)
				if c := color.RGBAModel.Convert(got.At(x, y)).(color.RGBA); c != src.RGBAAt(sx, sy) {
					t.Errorf("orientation %d: pixel (%d,%d) = %v, want stored (%d,%d)", o, x, y, c, sx, sy)
				}
			}
		}
	}
	// The corner table the JPEG test relies on agrees with the exact mapping.
	for o, want := range photoTestCorners {
		q := photoOrient(photoTestQuadrants(4, 2), o)
		dw := q.Bounds().Dx()
		if got := [2]int{photoTestNearest(q.At(0, 0)), photoTestNearest(q.At(dw-1, 0))}; got != want {
			t.Errorf("orientation %d: corners %v, want %v", o, got, want)
		}
	}
}

func TestPhotoJPEGOrientationParsing(t *testing.T) {
	jpg := photoTestJPEG(t, photoTestImage(8, 8))
	le, be := binary.LittleEndian, binary.BigEndian
	app1 := func(payload []byte) []byte { return photoTestJPEGSegment(0xE1, payload) }
	exif := func(tiff []byte) []byte { return app1(append([]byte("Exif\x00\x00"), tiff...)) }
	orientationEntry := func(bo photoTestOrder, typ uint16, count uint32, v uint32) []byte {
		var d []byte
		if typ == 3 {
			d = bo.AppendUint16(nil, uint16(v))
		} else {
			d = bo.AppendUint32(nil, v)
		}
		return photoTestTIFF(bo, []photoTestTIFFEntry{{0x0112, typ, count, d}}, nil)
	}
	good := photoTestOrientationExif(le, 6)[6:]
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"no EXIF", jpg, 1},
		{"little endian", photoTestWithSegments(jpg, exif(orientationEntry(le, 3, 1, 6))), 6},
		{"big endian", photoTestWithSegments(jpg, exif(orientationEntry(be, 3, 1, 8))), 8},
		{"LONG value", photoTestWithSegments(jpg, exif(orientationEntry(be, 4, 1, 3))), 3},
		{"with GPS", photoTestWithSegments(jpg, app1(photoTestExif(le, 5))), 5},
		{"after XMP and APP0", photoTestWithSegments(jpg,
			photoTestJPEGSegment(0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")),
			app1([]byte("http://ns.adobe.com/xap/1.0/\x00<x/>")),
			exif(orientationEntry(le, 3, 1, 7))), 7},
		{"fill bytes before a marker", append([]byte{0xFF, 0xD8, 0xFF, 0xFF}, append(exif(good), jpg[2:]...)...), 6},
		{"after the scan", append(append([]byte{}, jpg[:len(jpg)-2]...), append(exif(good), 0xFF, 0xD9)...), 1},
		{"value 0", photoTestWithSegments(jpg, exif(orientationEntry(le, 3, 1, 0))), 1},
		{"value 9", photoTestWithSegments(jpg, exif(orientationEntry(le, 3, 1, 9))), 1},
		{"count 2", photoTestWithSegments(jpg, exif(orientationEntry(le, 3, 2, 6))), 1},
		{"ASCII type", photoTestWithSegments(jpg, exif(photoTestTIFF(le, []photoTestTIFFEntry{{0x0112, 2, 2, []byte("6\x00")}}, nil))), 1},
		{"bad byte order", photoTestWithSegments(jpg, exif(append([]byte("XX"), good[2:]...))), 1},
		{"bad magic", photoTestWithSegments(jpg, exif(append([]byte("II\x2b\x00"), good[4:]...))), 1},
		{"IFD beyond the end", photoTestWithSegments(jpg, exif(append([]byte("II\x2a\x00\xff\xff\x00\x00"), good[8:]...))), 1},
		{"IFD inside the header", photoTestWithSegments(jpg, exif(append([]byte("II\x2a\x00\x02\x00\x00\x00"), good[8:]...))), 1},
		{"entry count past the end", photoTestWithSegments(jpg, exif(append(append([]byte{}, good[:8]...), 0xFF, 0xFF))), 1},
		{"truncated TIFF", photoTestWithSegments(jpg, exif(good[:5])), 1},
		{"segment longer than the file", append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, "Exif\x00\x00"...), 1},
		{"segment length 0", append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00}, jpg[2:]...), 1},
		{"garbage after SOI", []byte{0xFF, 0xD8, 0x00, 0x01, 0x02, 0x03}, 1},
		{"not a JPEG", []byte("hello"), 1},
		{"empty", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := photoJPEGOrientation(tc.data); got != tc.want {
				t.Errorf("orientation = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestProcessPhotoWebP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		data      []byte
		wantType  string
		w, h      int
		wantColor *color.NRGBA // the colour of every pixel, when uniform
	}{
		{"lossless from libwebp", photoTestRead(t, "gopher-doc.1bpp.lossless.webp"), PhotoTypeJPEG, 75, 100, nil},
		{"lossy from libwebp", photoTestRead(t, "blue-purple-pink.lossy.webp"), PhotoTypeJPEG, 150, 100, nil},
		{"opaque", photoTestWebP(1700, 100, color.NRGBA{200, 40, 10, 255}), PhotoTypeJPEG, 1700, 100, &color.NRGBA{200, 40, 10, 255}},
		{"translucent", photoTestWebP(300, 200, color.NRGBA{10, 200, 40, 128}), PhotoTypePNG, 300, 200, &color.NRGBA{10, 200, 40, 128}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The generated files must be real WebP, not just something ProcessPhoto accepts.
			src, err := webp.Decode(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("the input is not valid WebP: %v", err)
			}
			out, err := ProcessPhoto(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if out.Original.Width != tc.w || out.Original.Height != tc.h {
				t.Errorf("original %d×%d, want %d×%d", out.Original.Width, out.Original.Height, tc.w, tc.h)
			}
			for name, r := range photoTestAll(out) {
				if r.ContentType != tc.wantType {
					t.Errorf("%s: content type %s, want %s", name, r.ContentType, tc.wantType)
				}
				img := photoTestDecode(t, name, r)
				b := img.Bounds()
				at := color.NRGBAModel.Convert(img.At(b.Dx()/2, b.Dy()/2)).(color.NRGBA)
				want := color.NRGBAModel.Convert(src.At(src.Bounds().Dx()/2, src.Bounds().Dy()/2)).(color.NRGBA)
				if tc.wantColor != nil {
					want = *tc.wantColor
				}
				tol := 12 // JPEG at quality 85
				if name != "original" {
					tol = 40 // and a neighbourhood averaged by scaling
				}
				if !photoTestClose(at, want, tol) {
					t.Errorf("%s: centre pixel %v, want about %v", name, at, want)
				}
			}
		})
	}
}

// photoTestClose reports whether two colours differ by at most tol in every channel.
func photoTestClose(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func TestProcessPhotoKeepsTransparency(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 1000, 600))
	for y := range 600 {
		for x := range 1000 {
			a := uint8(255)
			if x < 500 {
				a = 0 // left half fully transparent
			}
			img.SetNRGBA(x, y, color.NRGBA{20, 90, 200, a})
		}
	}
	out, err := ProcessPhoto(photoTestPNG(t, img))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range photoTestAll(out) {
		if r.ContentType != PhotoTypePNG {
			t.Errorf("%s: content type %s, want PNG", name, r.ContentType)
		}
		m := photoTestDecode(t, name, r)
		b := m.Bounds()
		left := color.NRGBAModel.Convert(m.At(b.Dx()/8, b.Dy()/2)).(color.NRGBA)
		right := color.NRGBAModel.Convert(m.At(b.Dx()*7/8, b.Dy()/2)).(color.NRGBA)
		if left.A != 0 {
			t.Errorf("%s: the transparent half has alpha %d", name, left.A)
		}
		if !photoTestClose(right, color.NRGBA{20, 90, 200, 255}, 2) {
			t.Errorf("%s: the opaque half is %v", name, right)
		}
	}
}

func TestProcessPhotoSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w, h           int
		web, thumb     [2]int
		png            bool
		sharesOriginal bool // web is the original, unscaled
		thumbSharesWeb bool
	}{
		{w: 3000, h: 1000, web: [2]int{1600, 533}, thumb: [2]int{400, 133}},
		{w: 100, h: 1700, web: [2]int{94, 1600}, thumb: [2]int{24, 400}},
		{w: 100, h: 50, web: [2]int{100, 50}, thumb: [2]int{100, 50}, sharesOriginal: true, thumbSharesWeb: true},
		{w: 1600, h: 200, web: [2]int{1600, 200}, thumb: [2]int{400, 50}, sharesOriginal: true, png: true},
		{w: 1601, h: 50, web: [2]int{1600, 50}, thumb: [2]int{400, 12}, png: true},
		{w: 401, h: 10, web: [2]int{401, 10}, thumb: [2]int{400, 10}, sharesOriginal: true},
		{w: 2000, h: 1, web: [2]int{1600, 1}, thumb: [2]int{400, 1}, png: true},
		{w: 400, h: 400, web: [2]int{400, 400}, thumb: [2]int{400, 400}, sharesOriginal: true, thumbSharesWeb: true},
	} {
		kind := "JPEG"
		if tc.png {
			kind = "PNG"
		}
		t.Run(fmt.Sprintf("%s %dx%d", kind, tc.w, tc.h), func(t *testing.T) {
			img := photoTestImage(tc.w, tc.h)
			data := photoTestJPEG(t, img)
			if tc.png {
				data = photoTestPNG(t, img)
			}
			out, err := ProcessPhoto(data)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][2]int{"original": {tc.w, tc.h}, "web": tc.web, "thumb": tc.thumb}
			for name, r := range photoTestAll(out) {
				if got := [2]int{r.Width, r.Height}; got != want[name] {
					t.Errorf("%s: %v, want %v", name, got, want[name])
				}
				photoTestDecode(t, name, r)
			}
			if got := &out.Web.Data[0] == &out.Original.Data[0]; got != tc.sharesOriginal {
				t.Errorf("web shares the original's data: %v, want %v", got, tc.sharesOriginal)
			}
			if got := &out.Thumb.Data[0] == &out.Web.Data[0]; got != tc.thumbSharesWeb {
				t.Errorf("thumb shares the web data: %v, want %v", got, tc.thumbSharesWeb)
			}
		})
	}
}

func TestProcessPhotoScaledContent(t *testing.T) {
	t.Parallel()
	// Scaling must resample the whole picture, not crop it: the quadrants stay put.
	out, err := ProcessPhoto(photoTestPNG(t, photoTestQuadrants(1700, 200)))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]PhotoRendition{"web": out.Web, "thumb": out.Thumb} {
		m := photoTestDecode(t, name, r)
		w, h := r.Width, r.Height
		for i, p := range []image.Point{{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}} {
			c := color.RGBAModel.Convert(m.At(p.X, p.Y)).(color.RGBA)
			if c != photoTestCorner[i] {
				t.Errorf("%s: at %v got %v, want %v", name, p, c, photoTestCorner[i])
			}
		}
	}
}

func TestProcessPhotoDamaged(t *testing.T) {
	jpg := photoTestJPEG(t, photoTestImage(200, 100))
	pngData := photoTestPNG(t, photoTestImage(200, 100))
	for name, data := range map[string][]byte{
		"truncated JPEG": jpg[:len(jpg)/3],
		"truncated PNG":  pngData[:len(pngData)/2],
		"PNG bomb with a short IDAT within the limit": photoTestPNGBomb(t, 1000, 1000),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := InspectPhoto(data); err != nil {
				t.Fatalf("the header should pass: %v", err)
			}
			_, err := ProcessPhoto(data)
			if msg := photoTestMessage(t, err); !strings.Contains(msg, "damaged") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestPhotoFit(t *testing.T) {
	for _, tc := range []struct{ w, h, side, ww, wh int }{
		{3000, 1000, 1600, 1600, 533},
		{1000, 3000, 1600, 533, 1600},
		{3000, 1000, 400, 400, 133},
		{3000, 2000, 1600, 1600, 1067}, // rounds to nearest
		{100, 50, 400, 100, 50},
		{400, 400, 400, 400, 400},
		{10000, 1, 400, 400, 1},
		{1, 10000, 400, 1, 400},
	} {
		if w, h := photoFit(tc.w, tc.h, tc.side); w != tc.ww || h != tc.wh {
			t.Errorf("photoFit(%d, %d, %d) = %d, %d; want %d, %d", tc.w, tc.h, tc.side, w, h, tc.ww, tc.wh)
		}
	}
}

func FuzzInspectPhoto(f *testing.F) {
	small := photoTestImage(4, 3)
	f.Add(photoTestJPEG(f, small))
	f.Add(photoTestPNG(f, small))
	f.Add(photoTestRead(f, "gopher-doc.1bpp.lossless.webp"))
	f.Add(photoTestRead(f, "blue-purple-pink.lossy.webp"))
	f.Add(photoTestWebP(3, 2, color.NRGBA{1, 2, 3, 4}))
	f.Add(photoTestPNGBomb(f, 20000, 20000))
	f.Add(photoTestWithSegments(photoTestJPEG(f, small), photoTestJPEGSegment(0xE1, photoTestExif(binary.BigEndian, 6))))
	f.Add([]byte("not an image"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := InspectPhoto(data)
		if err != nil {
			if ports.ErrorCodeOf(err) != ports.EINVALID || len(ports.FieldErrorsOf(err)) != 1 {
				t.Fatalf("error %v is not one invalid field", err)
			}
			return
		}
		switch info.ContentType {
		case PhotoTypeJPEG, PhotoTypePNG, PhotoTypeWebP:
		default:
			t.Fatalf("content type %q", info.ContentType)
		}
		if info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > PhotoMaxPixels {
			t.Fatalf("accepted %d×%d", info.Width, info.Height)
		}
		if o := photoJPEGOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func FuzzPhotoJPEGOrientation(f *testing.F) {
	jpg := photoTestJPEG(f, photoTestImage(4, 4))
	f.Add(photoTestWithSegments(jpg, photoTestJPEGSegment(0xE1, photoTestExif(binary.LittleEndian, 6))))
	f.Add(photoTestWithSegments(jpg, photoTestJPEGSegment(0xE1, photoTestExif(binary.BigEndian, 8))))
	f.Add(jpg)
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := photoJPEGOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func FuzzProcessPhoto(f *testing.F) {
	small := photoTestImage(5, 3)
	f.Add(photoTestWithSegments(photoTestJPEG(f, small), photoTestJPEGSegment(0xE1, photoTestExif(binary.LittleEndian, 7))))
	f.Add(photoTestPNG(f, small))
	f.Add(photoTestRead(f, "gopher-doc.1bpp.lossless.webp"))
	f.Add(photoTestWebP(3, 2, color.NRGBA{1, 2, 3, 4}))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := InspectPhoto(data)
		if err != nil || int64(info.Width)*int64(info.Height) > 1<<16 {
			return // keep each run cheap
		}
		out, err := ProcessPhoto(data)
		if err != nil {
			if ports.ErrorCodeOf(err) != ports.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		for name, r := range photoTestAll(out) {
			photoTestDecode(t, name, r)
		}
	})
}
