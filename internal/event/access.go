package event

// Access is the data of access.recorded: one read of a person's data by a
// user of Custody — who, in which role, which operation, for what stated
// purpose, and whether a person was found. The event's subject is the
// identifier that was looked up; its time is when the read happened.
type Access struct {
	Actor     string `json:"actor"`                // token name, or "anonymous (dev mode)"
	Role      string `json:"role"`                 // publisher, analyst, admin
	Operation string `json:"operation"`            // e.g. graphql.subject, cli.report
	Purpose   string `json:"purpose"`              // the purpose the reader stated
	Found     bool   `json:"found"`                // whether the identifier belonged to a person
	RequestID string `json:"request_id,omitempty"` // the rights request served, if any
	Revealed  string `json:"revealed,omitempty"`   // what a reveal showed in clear (never the value), if any
}

// ValueSlots implements Data; accesses carry no element values.
func (d *Access) ValueSlots() []*Element { return nil }
func (*Access) isData()                  {}
