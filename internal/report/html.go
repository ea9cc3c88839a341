package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

// WriteHTML writes r as one self-contained HTML page: styles inline, no
// scripts, fonts, images or other external assets; printable (@media
// print); accessible (lang attribute, one h1 and h2 per section, tables with
// captions and scoped header cells).
func WriteHTML(w io.Writer, r Report) error {
	// Parsed per call: a few hundred microseconds, and no package state.
	t, err := template.ParseFS(templates, "templates/report.html.tmpl")
	if err != nil {
		return fmt.Errorf("report: parse html template: %w", err)
	}
	if err := t.ExecuteTemplate(w, "report.html.tmpl", layout(r)); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}
