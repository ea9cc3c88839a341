package lineage

import "strings"

// NodeKind is the kind of a node, also the prefix of its ID.
type NodeKind string

// Node kinds.
const (
	NodeSubject   NodeKind = "subject"
	NodeElement   NodeKind = "element"
	NodeSystem    NodeKind = "system"
	NodeSource    NodeKind = "source"
	NodeActivity  NodeKind = "activity"
	NodeRecipient NodeKind = "recipient"
)

// EdgeKind is the kind of an edge.
type EdgeKind string

// Edge kinds (see the package documentation for what each connects).
const (
	EdgeCollectedFrom EdgeKind = "collected-from"
	EdgeStoredIn      EdgeKind = "stored-in"
	EdgeTransferredTo EdgeKind = "transferred-to"
	EdgeSharedWith    EdgeKind = "shared-with"
	EdgeDerivedFrom   EdgeKind = "derived-from"
	EdgeProcessedBy   EdgeKind = "processed-by"
	EdgeProducedBy    EdgeKind = "produced-by"
	EdgeCorrected     EdgeKind = "corrected"
	EdgeErased        EdgeKind = "erased"
	EdgeBelongsTo     EdgeKind = "belongs-to"
)

// Edge attribute keys.
const (
	AttrPurpose           = "purpose"
	AttrLegalBasis        = "legal_basis"
	AttrNotice            = "notice"
	AttrSystem            = "system"
	AttrCountry           = "country"
	AttrMechanism         = "mechanism"
	AttrRole              = "role"
	AttrReason            = "reason"
	AttrRequestID         = "request_id"
	AttrAutomatedDecision = "automated_decision" // "significant" or "not_significant"
)

// escape makes one ID component unambiguous: "/" separates components.
func escape(s string) string {
	if !strings.ContainsAny(s, "%/") {
		return s
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}

func join(kind NodeKind, parts ...string) string {
	var b strings.Builder
	b.WriteString(string(kind))
	b.WriteByte(':')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(escape(p))
	}
	return b.String()
}

// SubjectID is the ID of a person's node.
func SubjectID(tenant, person string) string { return join(NodeSubject, tenant, person) }

// ElementID is the ID of a datum of a person: its category and name.
func ElementID(tenant, person, category, name string) string {
	return join(NodeElement, tenant, person, category, name)
}

// SystemID is the ID of an internal system.
func SystemID(tenant, name string) string { return join(NodeSystem, tenant, name) }

// SourceID is the ID of a source: the origin's kind and name (may be empty).
func SourceID(tenant, kind, name string) string { return join(NodeSource, tenant, kind, name) }

// ActivityID is the ID of a processing activity in a system.
func ActivityID(tenant, system, activity string) string {
	return join(NodeActivity, tenant, system, activity)
}

// RecipientID is the ID of a recipient: its kind and name.
func RecipientID(tenant, kind, name string) string { return join(NodeRecipient, tenant, kind, name) }
