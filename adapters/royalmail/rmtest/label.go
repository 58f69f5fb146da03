package rmtest

import (
	"fmt"

	"orderdesk/adapters/pdfkit"
)

// labelPDF makes a small real PDF with one 6 × 4 label page per order.
func labelPDF(orders ...*Order) ([]byte, error) {
	pdf := pdfkit.New("P", pdfkit.Label6x4)
	pdf.SetTitle("Royal Mail label (rmtest fake)", true)
	pdf.SetAutoPageBreak(false, 0)
	for _, o := range orders {
		pdf.AddPage()
		pdf.SetFont(pdfkit.Font, "B", 14)
		pdf.CellFormat(0, 8, "ROYAL MAIL — TEST LABEL", "B", 1, "C", false, 0, "")
		pdf.SetFont(pdfkit.Font, "", 10)
		for _, line := range []string{
			fmt.Sprintf("Service %s  ·  %d g  ·  %s", o.ServiceCode, o.WeightGrams, o.PackageFormat),
			o.FullName, o.Postcode + " " + o.CountryCode,
			"Order " + o.Reference + fmt.Sprintf(" (#%d)", o.ID),
			"Tracking " + o.TrackingNumber,
		} {
			pdf.CellFormat(0, 6, line, "", 1, "L", false, 0, "")
		}
		if err := pdfkit.QRCode(pdf, o.TrackingNumber, 30, 60, 40); err != nil {
			return nil, err
		}
	}
	return pdfkit.Bytes(pdf)
}
