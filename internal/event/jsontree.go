package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// node is one JSON value of an event, kept with its raw bytes so the decoder
// can report every problem (wrong types, unknown and duplicate members) with
// its path instead of stopping at the first, and copy element values
// verbatim. Member lists and names live in a treeParser's slabs and are
// valid until its next parse.
type node struct {
	kind jsonKind
	// cut marks an array or object nested deeper than the parser's keep
	// depth: its syntax was checked, but its members were not built.
	cut     bool
	raw     []byte   // the value's bytes in the input
	keys    [][]byte // object member names (unescaped), in input order
	members []node   // object member values or array elements
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

// maxDepth is encoding/json's nesting limit: json.Valid rejects a value
// nested in more than 10,000 arrays and objects, so parse does too. What
// validation accepts is far shallower (Limits.MaxValueDepth); parse builds
// the tree only down to its keep depth and scans the rest.
const maxDepth = 10000

// treeParser parses an event's JSON in one pass, checking the syntax as
// json.Valid does while it builds the tree. It replaced json.Valid (~11% of
// validation CPU) followed by a second scan that allocated every node,
// member list and name on its own (~85 of a `data.collected` event's 162
// allocations). A parser's slabs are reused from one event of a batch to
// the next and member names are the input's bytes, so a batch's trees cost
// almost no allocations. With the walker's changes, validation of the
// end-to-end benchmark's body went from 15.6 to 5.0 µs and from 162 to 26
// allocations an event (BenchmarkDecodeBatchNDJSON, one core).
//
// Arrays and objects nested deeper than keep are checked for syntax but not
// built: each is one node marked cut, with no members. An event of 9,000
// nested arrays (18 KB) costs a scan, not 9,000 nodes, and validation
// rejects it for its depth (walker.nests).
type treeParser struct {
	b      []byte
	i      int
	depth  int
	keep   int      // depth down to which the tree is built
	cut    bool     // some container below keep was not built
	stack  []node   // members of the containers being parsed
	kstack [][]byte // member names of the objects being parsed
	nodes  []node   // finished member lists
	keys   [][]byte // finished name lists
	root   node
}

// parse parses one JSON value, building its tree down to depth keep (the
// outermost array or object is at depth 1). The tree is valid until the
// next parse. A syntax error is described as encoding/json describes it.
func (p *treeParser) parse(b []byte, keep int) (*node, error) {
	p.b, p.i, p.depth, p.keep, p.cut = b, 0, 0, keep, false
	p.stack, p.kstack = p.stack[:0], p.kstack[:0]
	p.nodes, p.keys = p.nodes[:0], p.keys[:0]
	p.space()
	var ok bool
	p.root, ok = p.value()
	if ok {
		p.space()
		ok = p.i == len(b)
	}
	p.b = nil
	if !ok {
		return nil, syntaxError(b)
	}
	return &p.root, nil
}

// syntaxError describes why b is not valid JSON, in the words of
// encoding/json; the parser only finds that it is not.
func syntaxError(b []byte) error {
	var v json.RawMessage
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	return errors.New("malformed JSON")
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

// value parses the value at p.i; false means a syntax error.
func (p *treeParser) value() (node, bool) {
	if p.i >= len(p.b) {
		return node{}, false
	}
	start := p.i
	var n node
	ok := false
	switch c := p.b[p.i]; {
	case c == '{':
		n.kind = jsonObject
		ok = p.object(&n)
	case c == '[':
		n.kind = jsonArray
		ok = p.array(&n)
	case c == '"':
		n.kind = jsonString
		ok = p.str()
	case c == 't':
		n.kind = jsonBool
		ok = p.literal("true")
	case c == 'f':
		n.kind = jsonBool
		ok = p.literal("false")
	case c == 'n':
		n.kind = jsonNull
		ok = p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		n.kind = jsonNumber
		ok = p.number()
	}
	n.raw = p.b[start:p.i]
	return n, ok
}

func (p *treeParser) object(n *node) bool {
	if p.depth++; p.depth > maxDepth {
		return false
	}
	keep := p.build(n)
	mark, kmark := len(p.stack), len(p.kstack)
	p.i++
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return true
	}
	for {
		ks := p.i
		if p.i >= len(p.b) || p.b[p.i] != '"' || !p.str() {
			return false
		}
		if keep {
			p.kstack = append(p.kstack, p.name(p.b[ks:p.i]))
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		p.space()
		v, ok := p.value()
		if !ok {
			return false
		}
		if keep {
			p.stack = append(p.stack, v)
		}
		p.space()
		if p.i >= len(p.b) {
			return false
		}
		if c := p.b[p.i]; c == ',' {
			p.i++
			p.space()
			continue
		} else if c != '}' {
			return false
		}
		p.i++
		break
	}
	if keep {
		n.members = p.finish(mark)
		start := len(p.keys)
		p.keys = append(p.keys, p.kstack[kmark:]...)
		n.keys = p.keys[start:len(p.keys):len(p.keys)]
		p.kstack = p.kstack[:kmark]
	}
	p.depth--
	return true
}

// build reports whether the members of the container n, just entered, are
// built; when not, n is marked cut.
func (p *treeParser) build(n *node) bool {
	if p.depth <= p.keep {
		return true
	}
	n.cut, p.cut = true, true
	return false
}

func (p *treeParser) array(n *node) bool {
	if p.depth++; p.depth > maxDepth {
		return false
	}
	keep := p.build(n)
	mark := len(p.stack)
	p.i++
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return true
	}
	for {
		v, ok := p.value()
		if !ok {
			return false
		}
		if keep {
			p.stack = append(p.stack, v)
		}
		p.space()
		if p.i >= len(p.b) {
			return false
		}
		if c := p.b[p.i]; c == ',' {
			p.i++
			p.space()
			continue
		} else if c != ']' {
			return false
		}
		p.i++
		break
	}
	if keep {
		n.members = p.finish(mark)
	}
	p.depth--
	return true
}

// finish moves the members above mark from the stack to the slab. Lists
// already handed out stay valid when the slab grows: they keep the old
// array.
func (p *treeParser) finish(mark int) []node {
	start := len(p.nodes)
	p.nodes = append(p.nodes, p.stack[mark:]...)
	clear(p.stack[mark:])
	p.stack = p.stack[:mark]
	return p.nodes[start:len(p.nodes):len(p.nodes)]
}

// name returns the member name of a string token: its bytes in the input
// unless it has escapes.
func (p *treeParser) name(tok []byte) []byte {
	if bytes.IndexByte(tok, '\\') >= 0 {
		return []byte(decodeString(tok))
	}
	return tok[1 : len(tok)-1]
}

// str skips a string token starting at the opening quote.
func (p *treeParser) str() bool {
	b, i := p.b, p.i+1
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			p.i = i + 1
			return true
		case c == '\\':
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(b) {
					return false
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			i++
		}
	}
	return false
}

func (p *treeParser) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

// number skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *treeParser) number() bool {
	b, i := p.b, p.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		if j := digits(b, i+1); j > i+1 {
			i = j
		} else {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if j := digits(b, i); j > i {
			i = j
		} else {
			return false
		}
	}
	p.i = i
	return true
}

// digits returns the index after the digits starting at i.
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
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
		if string(k) == name {
			return &n.members[i]
		}
	}
	return nil
}
