// Command gen writes seeded, realistic user files (input/gen) for the
// demo, benchmarks and crash tests, so that no large file is committed.
//
//	go run ./tools/gen -n 100000 -format ndjson -seed 7 > users.ndjson
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
)

func main() {
	n := flag.Int("n", 1000, "number of users")
	seed := flag.Int64("seed", 1, "seed: the same seed gives the same bytes")
	format := flag.String("format", "csv", "csv, json or ndjson")
	invalid := flag.Float64("invalid", 0, "fraction of invalid users")
	dups := flag.Float64("duplicates", 0, "fraction of duplicate emails")
	create := flag.Bool("create", false, "plaintext passwords (create mode) instead of hashes")
	export := flag.Bool("export", false, "NDJSON shaped like an Auth0 user export")
	domain := flag.String("domain", "", "email domain (default example.com)")
	flag.Parse()

	o := gen.GenOptions{InvalidRate: *invalid, DuplicateRate: *dups, Export: *export, Domain: *domain}
	if *create {
		o.Mode = input.ModeCreate
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	if err := gen.Users(*seed, *n, w, input.Format(*format), o); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
