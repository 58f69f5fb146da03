// Package pdfkit starts the PDF documents OrderDesk prints (shipping labels, pick
// lists, packing slips) on github.com/go-pdf/fpdf, with a font that can write any
// customer's name: fpdf's core fonts know Latin-1 only, so New registers DejaVu Sans
// (regular and bold, embedded in the binary; see fonts/LICENSE) as the UTF-8 font
// Font and selects it.
//
// A document is built with fpdf's own methods and finished with Bytes:
//
//	pdf := pdfkit.New("P", pdfkit.A4)
//	pdf.AddPage()
//	pdf.SetFont(pdfkit.Font, "B", 14)
//	pdf.CellFormat(0, 8, "Pick list — Zoë Brontë", "", 1, "L", false, 0, "")
//	b, err := pdfkit.Bytes(pdf)
package pdfkit

import (
	"bytes"
	_ "embed"
	"fmt"
	"image/png"

	"github.com/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"
)

// Font is the family name under which New registers DejaVu Sans, in the styles ""
// (regular) and "B" (bold).
const Font = "DejaVu"

var (
	//go:embed fonts/DejaVuSans.ttf
	regularTTF []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	boldTTF []byte
)

// Page sizes in millimetres, portrait.
var (
	A4 = fpdf.SizeType{Wd: 210, Ht: 297}
	// Label6x4 is the 6 × 4 inch thermal label, 4 inches wide and 6 tall.
	Label6x4 = fpdf.SizeType{Wd: 101.6, Ht: 152.4}
)

// New returns an empty document in millimetres with pages of size in orientation
// ("P" portrait or "L" landscape), DejaVu Sans registered as Font and selected at
// 10 pt. Automatic page breaks are on with a 10 mm bottom margin, as in fpdf.
func New(orientation string, size fpdf.SizeType) *fpdf.Fpdf {
	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: orientation, UnitStr: "mm", Size: size})
	pdf.AddUTF8FontFromBytes(Font, "", regularTTF)
	pdf.AddUTF8FontFromBytes(Font, "B", boldTTF)
	pdf.SetFont(Font, "", 10)
	pdf.SetCreator("OrderDesk", true)
	return pdf
}

// Bytes renders the document, or returns the first error met while it was built.
func Bytes(pdf *fpdf.Fpdf) ([]byte, error) {
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// QRCode draws content as a QR code (medium error correction) in a size × size mm
// square with its top-left corner at x, y.
func QRCode(pdf *fpdf.Fpdf, content string, x, y, size float64) error {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	q.DisableBorder = true
	var buf bytes.Buffer
	if err := png.Encode(&buf, q.Image(512)); err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	name := "qr:" + content // the same content makes the same image: fpdf reuses it
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader(name, opt, &buf)
	pdf.ImageOptions(name, x, y, size, size, false, opt, 0, "")
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	return nil
}
