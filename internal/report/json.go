package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes r in its portable JSON form, which follows the schema
// SchemaID names: indented, fields in a fixed order, lists sorted, so two
// reports of the same facts are byte-identical.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// The report is read by people too; keep "<", ">" and "&" as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}
