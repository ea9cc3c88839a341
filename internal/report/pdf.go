package report

import (
	"fmt"
	"io"

	"github.com/go-pdf/fpdf"
)

// PDFOptions tune the PDF.
type PDFOptions struct {
	// Uncompressed leaves page content uncompressed, so tests can find the
	// text in the bytes. Default compressed.
	Uncompressed bool
}

// Page geometry, in millimetres (A4 portrait).
const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	footerSpace  = 12.0
	contentW     = pageW - 2*margin
	bottom       = pageH - margin - footerSpace/2
	cellPad      = 1.2
)

// WritePDF writes r as a PDF made on this machine with the PDF core fonts
// (Helvetica): text is translated from UTF-8 to Windows-1252, so characters
// outside it (most non-Latin scripts) print as ".". The content is the
// same as the HTML's. The document's dates are r.GeneratedAt, so the same
// report gives the same bytes.
func WritePDF(w io.Writer, r Report, opts PDFOptions) error {
	doc := layout(r)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(!opts.Uncompressed)
	pdf.SetCreationDate(r.GeneratedAt)
	pdf.SetModificationDate(r.GeneratedAt)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(doc.Title, true)
	pdf.SetAuthor(r.Business.Name, true)
	pdf.SetCreator("Custody", false)
	pdf.SetProducer("Custody", false)
	pdf.SetLang(doc.Lang)
	pdf.SetMargins(margin, margin, margin)
	// Page breaks are ours: rows and lines are placed one by one, so a
	// table row can continue on the next page with its header repeated.
	pdf.SetAutoPageBreak(false, margin)
	pdf.AliasNbPages("")
	p := &pdfWriter{pdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor("")}
	pdf.SetFooterFunc(func() {
		pdf.SetXY(margin, pageH-margin)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(80, 80, 80)
		pdf.CellFormat(contentW, 4, p.tr(fmt.Sprintf("%s | page %d of {nb}", doc.Title, pdf.PageNo())), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()

	p.heading(doc.Title, 18, 8)
	for _, s := range doc.Intro {
		p.paragraph(s)
	}
	p.table(doc.About)
	for _, s := range doc.Sections {
		p.space(24)
		p.heading(s.Title, 13, 6.5)
		for _, b := range s.Blocks {
			switch {
			case b.Table != nil:
				p.table(*b.Table)
			case b.List != nil:
				p.list(b.List)
			default:
				p.paragraph(b.Text)
			}
		}
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("report: write pdf: %w", err)
	}
	return nil
}

type pdfWriter struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
}

// space starts a new page unless h millimetres are left on this one.
func (p *pdfWriter) space(h float64) bool {
	if p.pdf.GetY()+h > bottom {
		p.pdf.AddPage()
		return true
	}
	return false
}

// lines wraps UTF-8 text to width w in the current font, after translating
// it to the font's code page.
func (p *pdfWriter) lines(s string, w float64) []string {
	var out []string
	for _, l := range p.pdf.SplitLines([]byte(p.tr(s)), w) {
		out = append(out, string(l))
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func (p *pdfWriter) heading(s string, size, lineH float64) {
	p.pdf.SetFont("Helvetica", "B", size)
	for _, l := range p.lines(s, contentW) {
		p.space(lineH)
		p.pdf.SetX(margin)
		p.pdf.CellFormat(contentW, lineH, l, "", 1, "L", false, 0, "")
	}
	p.pdf.Ln(1.5)
}

func (p *pdfWriter) paragraph(s string) {
	p.pdf.SetFont("Helvetica", "", 10)
	for _, l := range p.lines(s, contentW) {
		p.space(5)
		p.pdf.SetX(margin)
		p.pdf.CellFormat(contentW, 5, l, "", 1, "L", false, 0, "")
	}
	p.pdf.Ln(2)
}

func (p *pdfWriter) list(items []string) {
	p.pdf.SetFont("Helvetica", "", 10)
	const indent = 5.0
	for _, it := range items {
		for i, l := range p.lines(it, contentW-indent) {
			p.space(5)
			p.pdf.SetX(margin)
			bullet := ""
			if i == 0 {
				bullet = p.tr("•")
			}
			p.pdf.CellFormat(indent, 5, bullet, "", 0, "L", false, 0, "")
			p.pdf.CellFormat(contentW-indent, 5, l, "", 1, "L", false, 0, "")
		}
	}
	p.pdf.Ln(2)
}

// table draws a table with wrapped cells. A row too tall for the rest of the
// page continues on the next, with the header row repeated.
func (p *pdfWriter) table(t table) {
	widths := columnWidths(t)
	p.space(18)
	p.pdf.SetFont("Helvetica", "B", 10)
	for _, l := range p.lines(t.Caption, contentW) {
		p.pdf.SetX(margin)
		p.pdf.CellFormat(contentW, 5, l, "", 1, "L", false, 0, "")
	}
	p.pdf.Ln(0.5)
	bold := func(int) string { return "B" }
	header := func() {
		if t.Head != nil {
			p.row(t.Head, widths, bold, true, nil)
		}
	}
	body := func(col int) string {
		if col == 0 && t.RowHeader {
			return "B"
		}
		return ""
	}
	header()
	for _, r := range t.Rows {
		p.row(r, widths, body, false, header)
	}
	p.pdf.Ln(4)
}

// row draws one row of cells, font style per column; onBreak redraws the
// header after a page break.
func (p *pdfWriter) row(cells []string, widths []float64, style func(col int) string, fill bool, onBreak func()) {
	const size, lineH = 8.5, 3.8
	pdf := p.pdf
	// A cell's text starts cellPad from its left edge: CellFormat adds the
	// cell margin, so the cell is placed and sized around it.
	cm := pdf.GetCellMargin()
	wrapped := make([][]string, len(cells))
	for i, c := range cells {
		pdf.SetFont("Helvetica", style(i), size)
		wrapped[i] = p.lines(c, widths[i]-2*cellPad+2*cm)
	}
	next := make([]int, len(cells)) // next line to print, per cell
	for first := true; ; first = false {
		left := 0
		for i := range wrapped {
			left = max(left, len(wrapped[i])-next[i])
		}
		if left == 0 && !first {
			return
		}
		fit := int((bottom - pdf.GetY() - 2*cellPad) / lineH)
		// Start a row on a new page rather than with one or two lines.
		if fit < 1 || (first && fit < min(left, 3)) {
			pdf.AddPage()
			if onBreak != nil {
				onBreak()
			}
			fit = max(1, int((bottom-pdf.GetY()-2*cellPad)/lineH))
		}
		n := min(left, fit)
		y, x := pdf.GetY(), float64(margin)
		h := float64(n)*lineH + 2*cellPad
		for i, w := range widths {
			pdf.SetFont("Helvetica", style(i), size)
			if fill {
				pdf.SetFillColor(232, 235, 239)
				pdf.Rect(x, y, w, h, "FD")
			} else {
				pdf.Rect(x, y, w, h, "D")
			}
			for k := 0; k < n && next[i] < len(wrapped[i]); k++ {
				pdf.SetXY(x+cellPad-cm, y+cellPad+float64(k)*lineH)
				pdf.CellFormat(w-2*cellPad+2*cm, lineH, wrapped[i][next[i]], "", 0, "L", false, 0, "")
				next[i]++
			}
			x += w
		}
		pdf.SetXY(margin, y+h)
		if n == left {
			return
		}
	}
}

// columnWidths scales the table's relative widths to the page.
func columnWidths(t table) []float64 {
	n := len(t.Head)
	if n == 0 && len(t.Rows) > 0 {
		n = len(t.Rows[0])
	}
	rel := t.Widths
	if len(rel) != n {
		rel = make([]float64, n)
		for i := range rel {
			rel[i] = 1
		}
	}
	sum := 0.0
	for _, v := range rel {
		sum += v
	}
	out := make([]float64, n)
	for i, v := range rel {
		out[i] = contentW * v / sum
	}
	return out
}
