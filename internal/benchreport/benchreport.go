// Package benchreport turns `go test -bench` output into the benchmark
// harness's table: each figure with its value, the raw-engine baseline
// measured in the same run, their ratio, the target and pass or fail.
//
// Benchmarks report their figures as custom metrics (b.ReportMetric); a
// Figure names which metrics of which benchmark make one row. Parsing and
// judging are pure; cmd/benchreport wires stdin to a table and a JSON file.
package benchreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Target is a figure's goal.
type Target struct {
	Text string // as printed, e.g. "≥ 0.50"
	// Pass decides it from the benchmark's metrics; nil for a figure
	// reported for information only.
	Pass func(m Metrics) bool
}

// Figure is one row of the table.
type Figure struct {
	Name      string
	Benchmark string // benchmark name without -N suffix, e.g. BenchmarkAppend
	Value     string // metric holding the value
	Unit      string
	Baseline  string // metric holding the raw-engine baseline; "" for none
	BaseUnit  string
	Ratio     string // metric holding value/baseline (or baseline/value for latencies)
	Target    Target
}

// Metrics are one benchmark's reported metrics by unit.
type Metrics map[string]float64

// Parse reads `go test -bench` output and returns each benchmark's metrics
// by name (the -GOMAXPROCS suffix removed). Later runs of the same
// benchmark replace earlier ones.
func Parse(r io.Reader) (map[string]Metrics, error) {
	out := map[string]Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := Metrics{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: metric %q: %w", name, f[i+1], err)
			}
			m[f[i+1]] = v
		}
		out[name] = m
	}
	return out, sc.Err()
}

// Row is one judged figure.
type Row struct {
	Figure   string   `json:"figure"`
	Value    *float64 `json:"value"`
	Unit     string   `json:"unit"`
	Baseline *float64 `json:"baseline"`
	BaseUnit string   `json:"baseline_unit,omitempty"`
	Ratio    *float64 `json:"ratio"`
	Target   string   `json:"target"`
	// Result is pass, FAIL, info (no target) or missing (the benchmark did
	// not run or did not report the value).
	Result string `json:"result"`
}

// Judge builds the rows of figs from the parsed metrics.
func Judge(figs []Figure, got map[string]Metrics) []Row {
	rows := make([]Row, 0, len(figs))
	for _, f := range figs {
		r := Row{Figure: f.Name, Unit: f.Unit, BaseUnit: f.BaseUnit, Target: f.Target.Text, Result: "info"}
		m, ok := got[f.Benchmark]
		v, has := m[f.Value]
		if !ok || !has {
			r.Result = "missing"
			rows = append(rows, r)
			continue
		}
		r.Value = ptr(v)
		if b, ok := m[f.Baseline]; ok && f.Baseline != "" {
			r.Baseline = ptr(b)
		}
		if x, ok := m[f.Ratio]; ok && f.Ratio != "" {
			r.Ratio = ptr(x)
		}
		if f.Target.Pass != nil {
			r.Result = "FAIL"
			if f.Target.Pass(m) {
				r.Result = "pass"
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func ptr(v float64) *float64 { return &v }

// WriteTable prints rows as an aligned table.
func WriteTable(w io.Writer, rows []Row) error {
	num := func(p *float64, unit string) string {
		if p == nil {
			return "-"
		}
		v := *p
		switch {
		case math.Abs(v) >= 1000:
			return fmt.Sprintf("%.0f %s", v, unit)
		case math.Abs(v) >= 10:
			return fmt.Sprintf("%.1f %s", v, unit)
		default:
			return fmt.Sprintf("%.2f %s", v, unit)
		}
	}
	if _, err := fmt.Fprintf(w, "%-66s %16s %18s %6s %22s  %s\n", "FIGURE", "VALUE", "RAW BASELINE", "RATIO", "TARGET", "RESULT"); err != nil {
		return err
	}
	for _, r := range rows {
		ratio := "-"
		if r.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *r.Ratio)
		}
		target := r.Target
		if target == "" {
			target = "-"
		}
		if _, err := fmt.Fprintf(w, "%-66s %16s %18s %6s %22s  %s\n", r.Figure, num(r.Value, r.Unit), num(r.Baseline, r.BaseUnit),
			ratio, target, r.Result); err != nil {
			return err
		}
	}
	return nil
}

// Report is the JSON form of a harness run.
type Report struct {
	Size    string `json:"size"`
	Machine string `json:"machine"`
	Rows    []Row  `json:"figures"`
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
