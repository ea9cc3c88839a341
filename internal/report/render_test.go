package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func inkReport(t *testing.T) Report {
	t.Helper()
	r, err := Build(inkcartridges(t).input(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPDF_IsAPDFWithTheCategories(t *testing.T) {
	r := inkReport(t)
	var raw, compressed bytes.Buffer
	if err := WritePDF(&raw, r, PDFOptions{Uncompressed: true}); err != nil {
		t.Fatal(err)
	}
	if err := WritePDF(&compressed, r, PDFOptions{}); err != nil {
		t.Fatal(err)
	}
	b := raw.Bytes()
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.Contains(b[len(b)-1024:], []byte("%%EOF")) {
		t.Fatalf("not a PDF: starts %q", b[:min(16, len(b))])
	}
	// Uncompressed, every line of text is a "(…)Tj" string.
	for _, want := range []string{"(Identifiers)Tj", "(Commercial information)Tj", "(Stripe)Tj", "(Sold)Tj",
		"(Who we sold or shared it with)Tj", "(Inkcartridges.com)Tj", "(Sensitive personal information)Tj"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the PDF does not contain %s", want)
		}
	}
	if compressed.Len() >= raw.Len() {
		t.Errorf("compressed %d bytes, uncompressed %d", compressed.Len(), raw.Len())
	}
	var again bytes.Buffer
	_ = WritePDF(&again, r, PDFOptions{})
	if !bytes.Equal(again.Bytes(), compressed.Bytes()) {
		t.Error("the same report gives different PDF bytes")
	}
}

// TestPDF_TextExtracts reads the PDF back with pdftotext (Debian
// poppler-utils), as a reader's software would.
func TestPDF_TextExtracts(t *testing.T) {
	needTool(t, "poppler-utils", "pdftotext")
	var b bytes.Buffer
	if err := WritePDF(&b, inkReport(t), PDFOptions{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	for _, want := range []string{"Identifiers", "Commercial information", "Sensitive personal information",
		"Who we sold or shared it with", "Who we disclosed it to for a business purpose", "Stripe",
		"We hold your payment card number.", "Jane Doe", "Up to seven (7) years, then deleted"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
	if strings.Contains(text, "4111") {
		t.Error("the card number is in the PDF text")
	}
}

// needTool returns the path of the first of names on PATH. Without one the
// test skips, or fails under CI=true, where the Debian package must be
// installed.
func needTool(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := names[0] + " is not installed (Debian: apt-get install " + pkg + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestHTML_IsSelfContainedAndAccessible(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, inkReport(t)); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if !strings.HasPrefix(html, "<!DOCTYPE html>\n<html lang=\"en\">") {
		t.Error("no doctype or lang attribute")
	}
	if n := strings.Count(html, "<h1"); n != 1 {
		t.Errorf("%d h1 headings, want 1", n)
	}
	if strings.Contains(html, "<h3") || strings.Contains(html, "<h4") {
		t.Error("a heading level below h2: the hierarchy is h1, h2")
	}
	tables, captioned := strings.Count(html, "<table"), len(regexp.MustCompile(`<table[^>]*>\n<caption>[^<]+</caption>`).FindAllString(html, -1))
	if tables == 0 || tables != captioned {
		t.Errorf("%d tables, %d start with a caption", tables, captioned)
	}
	if th, scoped := len(regexp.MustCompile(`<th[ >]`).FindAllString(html, -1)), strings.Count(html, `<th scope="`); th != scoped {
		t.Errorf("%d th cells, %d with scope", th, scoped)
	}
	for _, external := range []*regexp.Regexp{regexp.MustCompile(`(?i)<script|<link|<img|<iframe|@import|url\(`),
		regexp.MustCompile(`(?i)(src|href)="(https?:)?//`)} {
		if m := external.FindString(html); m != "" {
			t.Errorf("external or active content: %q", m)
		}
	}
	if !strings.Contains(html, "@media print") {
		t.Error("no print styles")
	}
}

// TestHTML_RendersInABrowser loads the page in headless Chromium (Debian
// package chromium): the screenshot must not be blank, and printing it to
// PDF must keep the categories.
func TestHTML_RendersInABrowser(t *testing.T) {
	browser := needTool(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, inkReport(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "profile")}
		out, err := exec.CommandContext(ctx, browser, append(append(base, args...), "file://"+page)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", browser, err, out)
		}
	}
	shot := filepath.Join(dir, "shot.png")
	run("--window-size=1000,1400", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dark, total := 0, 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r+g+bl)/3 < 0x6000 {
				dark++
			}
			total++
		}
	}
	if dark*200 < total { // under 0.5% text-dark pixels: blank or unstyled
		t.Errorf("the screenshot looks blank: %d of %d sampled pixels are dark", dark, total)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		return
	}
	printed := filepath.Join(dir, "printed.pdf")
	run("--no-pdf-header-footer", "--print-to-pdf="+printed)
	out, err := exec.Command("pdftotext", printed, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Commercial information", "Who we sold or shared it with"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the printed page lacks %q", want)
		}
	}
}
