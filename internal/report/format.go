package report

import (
	"fmt"
	"io"
	"strings"
)

// Format is a rendering of a report.
type Format string

// Formats.
const (
	FormatJSON Format = "json"
	FormatHTML Format = "html"
	FormatPDF  Format = "pdf"
)

// Formats returns every format in a stable order.
func Formats() []Format { return []Format{FormatHTML, FormatPDF, FormatJSON} }

// ParseFormat reads a format name (case-insensitive), as a --format flag
// gives it.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	switch f {
	case FormatJSON, FormatHTML, FormatPDF:
		return f, nil
	}
	return "", fmt.Errorf("%w: format: %q is not a report format; want html, pdf or json", ErrInvalidInput, s)
}

// ContentType returns the media type of the format, for downloads.
func (f Format) ContentType() string {
	switch f {
	case FormatJSON:
		return "application/json"
	case FormatHTML:
		return "text/html; charset=utf-8"
	case FormatPDF:
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Extension returns the file name extension of the format, e.g. ".pdf".
func (f Format) Extension() string { return "." + string(f) }

// Render writes r in format f.
func Render(w io.Writer, r Report, f Format) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatHTML:
		return WriteHTML(w, r)
	case FormatPDF:
		return WritePDF(w, r, PDFOptions{})
	}
	return fmt.Errorf("%w: format: %q is not a report format; want html, pdf or json", ErrInvalidInput, f)
}
