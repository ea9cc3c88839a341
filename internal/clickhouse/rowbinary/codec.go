package rowbinary

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// maxPlans bounds each of a Codec's plan caches; past it plans are still
// built, just not kept.
const maxPlans = 1024

// Codec decodes and encodes RowBinary, caching per row type (and column
// list) the plan that maps columns to struct fields. The zero Codec is ready
// to use and safe for concurrent use; it must not be copied after first use.
type Codec struct {
	dec, enc   sync.Map // planKey → *decPlan / *encPlan
	nDec, nEnc atomic.Int32
}

type planKey struct {
	st  reflect.Type
	sig string // the raw header (decode) or the column list (encode)
}

func (c *Codec) decodePlan(st reflect.Type, header []byte) (*decPlan, error) {
	key := planKey{st, string(header)}
	if p, ok := c.dec.Load(key); ok {
		return p.(*decPlan), nil
	}
	cols, _, err := ReadHeader(header)
	if err != nil {
		return nil, err
	}
	plan, err := buildDecodePlan(st, cols)
	if err != nil {
		return nil, err
	}
	if c.nDec.Load() < maxPlans {
		if _, loaded := c.dec.LoadOrStore(key, plan); !loaded {
			c.nDec.Add(1)
		}
	}
	return plan, nil
}

func (c *Codec) encodePlan(st reflect.Type, columns []Column) (*encPlan, error) {
	var sig strings.Builder
	for _, col := range columns {
		sig.WriteString(strconv.Itoa(len(col.Name)))
		sig.WriteByte(':')
		sig.WriteString(col.Name)
		col.Type.write(&sig)
		sig.WriteByte(0)
	}
	key := planKey{st, sig.String()}
	if p, ok := c.enc.Load(key); ok {
		return p.(*encPlan), nil
	}
	plan, err := buildEncodePlan(st, columns)
	if err != nil {
		return nil, err
	}
	if c.nEnc.Load() < maxPlans {
		if _, loaded := c.enc.LoadOrStore(key, plan); !loaded {
			c.nEnc.Add(1)
		}
	}
	return plan, nil
}
