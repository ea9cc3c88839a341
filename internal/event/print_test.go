package event

import (
	"bytes"
	"fmt"
	"log/slog"
)

func sprintf(verb string, v any) string { return fmt.Sprintf(verb, v) }

func logged(v any) string {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("event", "event", v)
	return buf.String()
}
