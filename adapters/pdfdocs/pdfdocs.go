// Package pdfdocs renders the fulfilment module's papers as PDF: pick lists and
// packing slips drawn with pdfkit (fpdf with a UTF-8 font), and batches of carrier
// labels joined into one file with pdfcpu.
package pdfdocs

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"orderdesk/adapters/pdfkit"
	"orderdesk/modules/fulfilment"
	"orderdesk/ports"
)

// Documents implements fulfilment.Documents.
type Documents struct{}

var _ fulfilment.Documents = (*Documents)(nil)

// New returns the renderer. pdfcpu is told to keep no configuration directory: a
// server has no business writing to its user's home.
func New() *Documents {
	api.DisableConfigDir()
	return &Documents{}
}

const (
	margin = 15.0
	width  = 210 - 2*margin
	lineH  = 6.0
)

// londonTime is the shop's time zone, read from the zone database once (every page's
// footer shows a time).
var londonTime = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
})

func london(t time.Time) string {
	return t.In(londonTime()).Format("2 Jan 2006 15:04")
}

// PickList renders a pick list: each product once with the summed quantity, a box to
// tick, and the orders that need it.
func (d *Documents) PickList(pl fulfilment.PickList) ([]byte, error) {
	pdf := pdfkit.New("P", pdfkit.A4)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont(pdfkit.Font, "", 8)
		pdf.CellFormat(0, 5, fmt.Sprintf("Pick list · %s · page %d of {nb}", london(pl.At), pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont(pdfkit.Font, "B", 18)
	pdf.CellFormat(0, 10, "Pick list", "", 1, "L", false, 0, "")
	pdf.SetFont(pdfkit.Font, "", 10)
	units := 0
	for _, it := range pl.Items {
		units += it.Quantity
	}
	pdf.MultiCell(0, 5, fmt.Sprintf("%d orders, %d items, %d products. Printed %s.\nOrders: %s",
		len(pl.Orders), units, len(pl.Items), london(pl.At), strings.Join(pl.Orders, ", ")), "", "L", false)
	pdf.Ln(3)

	cols := []struct {
		title string
		w     float64
		align string
	}{{"✓", 10, "C"}, {"SKU", 35, "L"}, {"Product", 75, "L"}, {"Qty", 15, "R"}, {"Orders", width - 135, "L"}}
	header := func() {
		pdf.SetFont(pdfkit.Font, "B", 10)
		pdf.SetFillColor(230, 230, 230)
		for _, c := range cols {
			pdf.CellFormat(c.w, 7, c.title, "1", 0, c.align, true, 0, "")
		}
		pdf.Ln(-1)
	}
	header()
	for _, it := range pl.Items {
		pdf.SetFont(pdfkit.Font, "", 10)
		name := pdf.SplitText(it.Name, cols[2].w-2)
		orders := pdf.SplitText(strings.Join(it.Orders, ", "), cols[4].w-2)
		rows := max(len(name), len(orders), 1)
		h := float64(rows)*5 + 2
		if pdf.GetY()+h > 297-margin-5 {
			pdf.AddPage()
			header()
			pdf.SetFont(pdfkit.Font, "", 10)
		}
		x, y := pdf.GetXY()
		pdf.Rect(x+3, y+1.5, 4, 4, "D")
		cells := []struct {
			lines []string
			bold  bool
		}{{nil, false}, {[]string{it.SKU}, false}, {name, false}, {[]string{strconv.Itoa(it.Quantity)}, true}, {orders, false}}
		for i, c := range cols {
			pdf.Rect(x, y, c.w, h, "D")
			if cells[i].bold {
				pdf.SetFont(pdfkit.Font, "B", 12)
			} else {
				pdf.SetFont(pdfkit.Font, "", 10)
			}
			for j, l := range cells[i].lines {
				pdf.SetXY(x+1, y+1+float64(j)*5)
				pdf.CellFormat(c.w-2, 5, l, "", 0, c.align, false, 0, "")
			}
			x += c.w
		}
		pdf.SetXY(margin, y+h)
	}
	return pdfkit.Bytes(pdf)
}

// PackingSlips renders one page per slip: the order number large and as a QR code,
// the lines to check off, and prices only when the slip says to show them.
func (d *Documents) PackingSlips(slips []fulfilment.PackingSlip) ([]byte, error) {
	pdf := pdfkit.New("P", pdfkit.A4)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	for _, s := range slips {
		pdf.AddPage()
		if err := pdfkit.QRCode(pdf, s.Number, 210-margin-30, margin, 30); err != nil {
			return nil, err
		}
		pdf.SetFont(pdfkit.Font, "B", 20)
		pdf.CellFormat(width-35, 10, "Packing slip", "", 1, "L", false, 0, "")
		pdf.SetFont(pdfkit.Font, "B", 16)
		pdf.CellFormat(width-35, 9, "Order "+s.Number, "", 1, "L", false, 0, "")
		pdf.SetFont(pdfkit.Font, "", 10)
		pdf.CellFormat(width-35, 5, "Placed "+london(s.PlacedAt), "", 1, "L", false, 0, "")
		if s.ServiceName != "" {
			pdf.CellFormat(width-35, 5, "Shipping: "+s.ServiceName, "", 1, "L", false, 0, "")
		}
		pdf.SetY(max(pdf.GetY(), margin+32) + 4)

		type col struct {
			title string
			w     float64
			align string
		}
		cols := []col{{"✓", 10, "C"}, {"SKU", 35, "L"}, {"Item", width - 65, "L"}, {"Qty", 20, "R"}}
		if s.ShowPrices {
			cols = []col{{"✓", 10, "C"}, {"SKU", 30, "L"}, {"Item", width - 110, "L"}, {"Qty", 15, "R"}, {"Price", 25, "R"}, {"Total", 30, "R"}}
		}
		pdf.SetFont(pdfkit.Font, "B", 10)
		pdf.SetFillColor(230, 230, 230)
		for _, c := range cols {
			pdf.CellFormat(c.w, 7, c.title, "1", 0, c.align, true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont(pdfkit.Font, "", 10)
		for _, l := range s.Lines {
			name := pdf.SplitText(l.Name, cols[2].w-2)
			h := float64(max(len(name), 1))*5 + 2
			x, y := pdf.GetXY()
			pdf.Rect(x+3, y+1.5, 4, 4, "D")
			values := [][]string{nil, {l.SKU}, name, {strconv.Itoa(l.Quantity)}}
			if s.ShowPrices {
				values = append(values, []string{"£" + ports.FormatMinor(l.UnitPricePence, "GBP")},
					[]string{"£" + ports.FormatMinor(l.UnitPricePence*int64(l.Quantity), "GBP")})
			}
			for i, c := range cols {
				pdf.Rect(x, y, c.w, h, "D")
				for j, v := range values[i] {
					pdf.SetXY(x+1, y+1+float64(j)*5)
					pdf.CellFormat(c.w-2, 5, v, "", 0, c.align, false, 0, "")
				}
				x += c.w
			}
			pdf.SetXY(margin, y+h)
		}
		if s.ShowPrices {
			pdf.Ln(2)
			for _, row := range [][2]string{{"Subtotal", ports.FormatMinor(s.Subtotal, "GBP")},
				{"Shipping", ports.FormatMinor(s.Shipping, "GBP")}, {"Total", ports.FormatMinor(s.Total, "GBP")}} {
				if row[0] == "Total" {
					pdf.SetFont(pdfkit.Font, "B", 10)
				}
				pdf.CellFormat(width-30, 6, row[0], "", 0, "R", false, 0, "")
				pdf.CellFormat(30, 6, "£"+row[1], "", 1, "R", false, 0, "")
			}
		}
		pdf.Ln(6)
		pdf.SetFont(pdfkit.Font, "", 9)
		pdf.MultiCell(0, 5, "Something missing or wrong? Contact us through the app you ordered with, quoting order "+s.Number+".",
			"", "L", false)
	}
	return pdfkit.Bytes(pdf)
}

// Merge joins PDF files into one, pages in order.
func (d *Documents) Merge(files [][]byte) ([]byte, error) {
	switch len(files) {
	case 0:
		return nil, fmt.Errorf("merge: no files")
	case 1:
		return files[0], nil
	}
	rs := make([]io.ReadSeeker, len(files))
	for i, f := range files {
		rs[i] = bytes.NewReader(f)
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	var out bytes.Buffer
	if err := api.MergeRaw(rs, &out, false, conf); err != nil {
		return nil, fmt.Errorf("merge labels: %w", err)
	}
	return out.Bytes(), nil
}
