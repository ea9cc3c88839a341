package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// node is one JSON value of an event, kept with its raw bytes so the decoder
// can report every problem (wrong types, unknown and duplicate members) with
// its path instead of stopping at the first, and copy element values
// verbatim.
type node struct {
	kind    jsonKind
	raw     []byte   // the value's bytes in the input
	keys    []string // object member names, in input order
	members []*node  // object member values or array elements
}

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// parseTree parses one JSON value. It checks syntax with encoding/json first,
// so the tree builder below only has to find token boundaries.
func parseTree(b []byte) (*node, error) {
	if !json.Valid(b) {
		var v json.RawMessage
		err := json.Unmarshal(b, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, se.Error())
		}
		return nil, errors.New("malformed JSON")
	}
	p := treeParser{b: b}
	p.space()
	n := p.value()
	return n, nil
}

type treeParser struct {
	b []byte
	i int
}

func (p *treeParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *treeParser) value() *node {
	start := p.i
	n := &node{}
	switch c := p.b[p.i]; {
	case c == '{':
		n.kind = jsonObject
		p.i++
		p.space()
		for p.b[p.i] != '}' {
			ks := p.i
			p.str()
			n.keys = append(n.keys, decodeString(p.b[ks:p.i]))
			p.space()
			p.i++ // ':'
			p.space()
			n.members = append(n.members, p.value())
			p.space()
			if p.b[p.i] == ',' {
				p.i++
				p.space()
			}
		}
		p.i++
	case c == '[':
		n.kind = jsonArray
		p.i++
		p.space()
		for p.b[p.i] != ']' {
			n.members = append(n.members, p.value())
			p.space()
			if p.b[p.i] == ',' {
				p.i++
				p.space()
			}
		}
		p.i++
	case c == '"':
		n.kind = jsonString
		p.str()
	case c == 't' || c == 'f':
		n.kind = jsonBool
		p.literal()
	case c == 'n':
		n.kind = jsonNull
		p.literal()
	default:
		n.kind = jsonNumber
		for p.i < len(p.b) && strings.IndexByte("+-.0123456789eE", p.b[p.i]) >= 0 {
			p.i++
		}
	}
	n.raw = p.b[start:p.i]
	return n
}

// str skips a string token starting at the opening quote.
func (p *treeParser) str() {
	p.i++
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	p.i++
}

func (p *treeParser) literal() {
	for p.i < len(p.b) && p.b[p.i] >= 'a' && p.b[p.i] <= 'z' {
		p.i++
	}
}

// decodeString decodes a valid JSON string token.
func decodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // valid by construction
	return s
}

// member returns the value of the object member name, or nil.
func (n *node) member(name string) *node {
	for i, k := range n.keys {
		if k == name {
			return n.members[i]
		}
	}
	return nil
}
