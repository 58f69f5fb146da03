package pdfkit_test

import (
	"bytes"
	"strings"
	"testing"

	"orderdesk/adapters/pdfkit"
	"orderdesk/adapters/pdfkit/pdftest"
)

func TestNewWritesAnyName(t *testing.T) {
	pdf := pdfkit.New("P", pdfkit.A4)
	pdf.AddPage()
	pdf.SetFont(pdfkit.Font, "B", 14)
	pdf.CellFormat(0, 8, "Pick list — Zoë Brontë", "", 1, "L", false, 0, "")
	pdf.SetFont(pdfkit.Font, "", 10)
	pdf.CellFormat(0, 6, "Łódź, Ελένη, Дмитрий (x2)", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, "Core font (plain)", "", 1, "L", false, 0, "")
	if err := pdfkit.QRCode(pdf, "TT000000014GB", 10, 40, 25); err != nil {
		t.Fatal(err)
	}
	pdf.AddPage()
	pdf.SetFont(pdfkit.Font, "", 10)
	pdf.CellFormat(0, 6, "Page two", "", 1, "L", false, 0, "")
	b, err := pdfkit.Bytes(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:8])
	}
	text := pdftest.Text(t, b)
	for _, want := range []string{"Pick list — Zoë Brontë", "Łódź, Ελένη, Дмитрий (x2)", "Core font (plain)", "Page two"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if n := pdftest.PageCount(t, b); n != 2 {
		t.Errorf("%d pages, want 2", n)
	}
	if !bytes.Contains(b, []byte("/Subtype /Image")) {
		t.Error("the QR code image is missing")
	}
}

func TestQRCodeRefusesOverlongContent(t *testing.T) {
	pdf := pdfkit.New("P", pdfkit.Label6x4)
	pdf.AddPage()
	if err := pdfkit.QRCode(pdf, strings.Repeat("x", 8000), 0, 0, 20); err == nil {
		t.Fatal("no error for content too long for a QR code")
	}
}
