// Command benchreport reads `go test -bench` output on stdin and prints the
// benchmark harness's table (figure, value, raw baseline, ratio, target,
// result) to stderr, and writes it as JSON. `make bench` runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/custodyhq/custody/internal/benchreport"
)

func main() {
	size := flag.String("size", "small", "harness size the figures were measured at")
	machine := flag.String("machine", "", "machine description for the JSON")
	out := flag.String("out", "bench-results.json", "JSON file to write")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go test -bench … | benchreport [-size small|large] [-machine TEXT] [-out FILE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*size, *machine, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(size, machine, out string) error {
	got, err := benchreport.Parse(os.Stdin)
	if err != nil {
		return err
	}
	rows := benchreport.Judge(benchreport.Figures(), got)
	if err := benchreport.WriteTable(os.Stderr, rows); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := benchreport.WriteJSON(f, benchreport.Report{Size: size, Machine: machine, Rows: rows}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
