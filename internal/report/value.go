package report

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Bounds of a value shown in a report. Validation bounds what an event may
// carry (64 KiB, 32 levels: event.MaxValueBytes, event.MaxValueDepth), but
// a report must stay small whatever is stored — events stored before those
// limits existed included: a value of 9,000 nested arrays once made a JSON
// report of 810 MB, each level a line indented deeper than the last. A value
// within both bounds is shown as recorded; any other is shown in part, as a
// JSON string of its first MaxShownValueBytes of compact JSON, with a notice
// saying so. A shown value then takes at most MaxShownValueBytes in HTML and
// PDF, and in the indented JSON at most one line per token of those bytes,
// indented at most MaxShownValueDepth levels below the piece.
const (
	MaxShownValueBytes = 8 << 10
	MaxShownValueDepth = 8
)

// shownValue returns what a report shows of a recorded value, and the
// notice when that is not all of it.
func shownValue(v json.RawMessage) (json.RawMessage, string) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, v); err != nil {
		compact.Reset()
		compact.Write(v) // stored values are valid JSON; shown as text if not
	} else if compact.Len() <= MaxShownValueBytes && depth(compact.Bytes()) <= MaxShownValueDepth {
		return append(json.RawMessage(nil), v...), ""
	}
	text, notice := compact.String(), "This information is nested too deeply to show as it was recorded, so it is shown as text."
	if len(text) > MaxShownValueBytes {
		text = clipText(text, MaxShownValueBytes) + "…"
		notice = "This information is too long to show in full here, so its beginning is shown, as text. Ask us and we will send you all of it."
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(text) // a string always encodes
	return json.RawMessage(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), notice
}

// depth is how deeply arrays and objects nest in valid compact JSON.
func depth(b []byte) int {
	d, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			d++
			deepest = max(deepest, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return deepest
}

// clipText shortens s to at most n bytes, on a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
