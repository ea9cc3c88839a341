package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"
)

// Content types DecodeBatch understands.
const (
	ContentTypeJSON                = "application/json"
	ContentTypeNDJSON              = "application/x-ndjson"
	ContentTypeCloudEvents         = "application/cloudevents+json"
	ContentTypeCloudEventsBatch    = "application/cloudevents-batch+json"
	contentTypeNDJSONAlt           = "application/ndjson"
	contentTypeJSONLines           = "application/jsonl"
	contentTypeJSONLinesAlt        = "application/x-jsonlines"
	contentTypeJSONLinesAltNoXDash = "application/jsonlines"
)

// Result is the verdict on one event of a batch: either Event is set and
// Errors empty (accepted), or Event is nil and Errors says why not.
type Result struct {
	Index  int             `json:"index"`        // position in the batch (NDJSON: among non-blank lines)
	ID     string          `json:"id,omitempty"` // the event's id, when it could be read
	Event  *Event          `json:"-"`
	Errors []FieldError    `json:"errors,omitempty"`
	Raw    json.RawMessage `json:"-"` // the event's bytes as received; may be malformed JSON
}

// DecodeBatch decodes and validates a batch of events. contentType selects
// the framing:
//
//   - application/json (or ""): a JSON array of events, one event object,
//     or NDJSON when the body is several JSON values on separate lines;
//   - application/x-ndjson (also application/ndjson, application/jsonl):
//     one event per line, blank lines ignored;
//   - application/cloudevents+json: one event (CloudEvents structured mode);
//   - application/cloudevents-batch+json: a JSON array of events.
//
// Every event is judged on its own: a bad event, even a malformed NDJSON
// line, never affects the others. A malformed JSON array is the exception —
// events after the syntax error cannot be delimited, so one Result reports
// the error and the rest of the array. DecodeBatch always returns at least
// one Result: an empty body or batch is reported as an error at index 0.
// Raw may alias b. DecodeBatch panics if opts.Validate fails.
func DecodeBatch(b []byte, contentType string, opts Options) []Result {
	opts = opts.withDefaults()
	mode, err := framing(contentType)
	if err != nil {
		return []Result{{Errors: []FieldError{{Reason: err.Error()}}, Raw: b}}
	}
	body := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\xef\xbb\xbf"))) // and a byte order mark
	if len(body) == 0 {
		return []Result{{Errors: []FieldError{{Reason: "the body is empty: send one event, a JSON array of events, or NDJSON"}}, Raw: b}}
	}
	if mode == modeAuto {
		mode = sniff(body)
	}
	var results []Result
	switch mode {
	case modeArray:
		results = decodeArray(body, &opts)
	case modeLines:
		if body[0] == '[' && json.Valid(body) {
			return []Result{{Errors: []FieldError{{Reason: "the body is a JSON array, not NDJSON; send it as " + ContentTypeJSON}}, Raw: body}}
		}
		results = decodeLines(body, &opts)
	default:
		if mode == modeSingle && body[0] == '[' {
			return []Result{{Errors: []FieldError{{Reason: ContentTypeCloudEvents + " carries one event; send a batch as " + ContentTypeCloudEventsBatch}}, Raw: body}}
		}
		results = []Result{decodeOne(0, body, &opts, new(treeParser))}
	}
	if len(results) == 0 {
		return []Result{{Errors: []FieldError{{Reason: "the batch holds no events"}}, Raw: body}}
	}
	return results
}

type framingMode int

const (
	modeAuto framingMode = iota
	modeArray
	modeLines
	modeSingle   // application/cloudevents+json
	modeOneValue // sniffed: one JSON value
)

func framing(contentType string) (framingMode, error) {
	if strings.TrimSpace(contentType) == "" {
		return modeAuto, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, errors.New("malformed Content-Type " + strconv.Quote(clip(contentType, 100)))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, errors.New("events must be UTF-8, not charset " + strconv.Quote(clip(cs, 40)))
	}
	switch mt {
	case ContentTypeJSON:
		return modeAuto, nil
	case ContentTypeNDJSON, contentTypeNDJSONAlt, contentTypeJSONLines, contentTypeJSONLinesAlt, contentTypeJSONLinesAltNoXDash:
		return modeLines, nil
	case ContentTypeCloudEvents:
		return modeSingle, nil
	case ContentTypeCloudEventsBatch:
		return modeArray, nil
	}
	return 0, errors.New("unsupported Content-Type " + strconv.Quote(clip(mt, 100)) + "; use " +
		ContentTypeJSON + ", " + ContentTypeNDJSON + ", " + ContentTypeCloudEvents + " or " + ContentTypeCloudEventsBatch)
}

// sniff picks the framing of an application/json body: an array, one value,
// or NDJSON (several values on separate lines).
func sniff(body []byte) framingMode {
	if body[0] == '[' {
		return modeArray
	}
	if json.Valid(body) {
		return modeOneValue
	}
	if first, _, ok := bytes.Cut(body, []byte("\n")); ok && json.Valid(first) {
		return modeLines
	}
	return modeOneValue // a malformed event, reported as such
}

func decodeOne(i int, raw []byte, opts *Options, p *treeParser) Result {
	ev, errs, id := decodeEvent(raw, opts, p) // id is ev.ID.String() when ev is set
	return Result{Index: i, ID: id, Event: ev, Errors: errs, Raw: raw}
}

func decodeLines(body []byte, opts *Options) []Result {
	// Sized for a line per newline: appending allocated ~3.5 MB for a
	// 10,000-event body, sized once it is 0.8 MB. At most one result per
	// 32 bytes is reserved, so that a body of blank lines does not reserve
	// 80 bytes for each of its bytes.
	results := make([]Result, 0, min(bytes.Count(body, []byte("\n")), len(body)/32)+1)
	var p treeParser
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		results = append(results, decodeOne(len(results), line, opts, &p))
	}
	return results
}

// decodeArray splits a JSON array into its elements and decodes each.
func decodeArray(body []byte, opts *Options) []Result {
	if body[0] != '[' {
		return []Result{{Errors: []FieldError{{Reason: "a batch must be a JSON array of events"}}, Raw: body}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	_, _ = dec.Token() // '['
	var results []Result
	var p treeParser
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(results, Result{
				Index:  len(results),
				Errors: []FieldError{{Reason: "malformed JSON in the batch after byte " + strconv.FormatInt(start, 10) + " (" + err.Error() + "); this and any later events were not read"}},
				Raw:    body[start:],
			})
		}
		results = append(results, decodeOne(len(results), raw, opts, &p))
	}
	end := dec.InputOffset()
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return append(results, Result{Index: len(results), Errors: []FieldError{{Reason: "malformed JSON in the batch after byte " + strconv.FormatInt(end, 10) + "; the array is not closed properly"}}, Raw: body[end:]})
	}
	end = dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return append(results, Result{Index: len(results), Errors: []FieldError{{Reason: "unexpected data after the JSON array of events"}}, Raw: body[end:]})
	}
	return results
}
