package cli

import (
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/words"
)

// hashFlags join Auth0 support's password-hash export into the records.
func hashFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "hashes", Usage: "join the password-hash export Auth0 support delivers (NDJSON, gzip read as it is) from `FILE`: each record gets its user's hash as password_hash, by user id"},
		&ucli.StringFlag{Name: "hashes-by", Value: "id", Usage: "id, or email: a record whose user id finds no hash line is joined by its email (two lines with one email: ambiguous, not sent)"},
	}
}

// readHashes reads the hash flags into st where given says so.
func readHashes(c *ucli.Context, st *report.Settings, given func(string) bool) {
	if given("hashes") {
		st.Hashes = c.String("hashes")
	}
	if given("hashes-by") {
		st.HashesBy = c.String("hashes-by")
	}
	if st.Hashes == "" && st.HashesBy == "id" {
		st.HashesBy = "" // the default, not recorded without --hashes
	}
}

// printHashes writes what the join did, for people: one line of outcomes,
// one of the hash lines, and where the listing is.
func printHashes(w io.Writer, h *run.HashSummary) {
	if h == nil {
		return
	}
	if h.File != "" {
		fmt.Fprintf(w, "password hashes (--hashes %s, by %s): joined %d", h.File, h.By, h.Joined)
		if h.AsCustom > 0 {
			fmt.Fprintf(w, " (%d as custom_password_hash, bcrypt of another cost than 10)", h.AsCustom)
		}
		if h.NotBcrypt > 0 {
			fmt.Fprintf(w, " (%d not bcrypt: those records are invalid)", h.NotBcrypt)
		}
		fmt.Fprintf(w, ", none %d, ambiguous %d", h.None, h.Ambiguous)
		if !h.Complete {
			fmt.Fprint(w, " (of the records read before the run stopped)")
		}
		fmt.Fprintln(w)
		if h.Complete {
			parts := []string{words.Count(h.Lines, "hash line") + " read", fmt.Sprintf("%d matched no record", h.Unmatched)}
			if h.Unreadable > 0 {
				parts = append(parts, fmt.Sprintf("%d unreadable", h.Unreadable))
			}
			fmt.Fprintf(w, "hash file: %s\n", strings.Join(parts, ", "))
		}
	}
	if h.Withheld > 0 {
		fmt.Fprintf(w, "password hashes withheld: %s of existing users sent without their hash (Auth0 takes one only when it creates the user)\n", words.Count(h.Withheld, "update"))
	}
	if h.Listing != "" {
		fmt.Fprintf(w, "hash join listing (records without a hash, hash lines without a record): %s\n", h.Listing)
	}
	shown := h.Listed[:min(len(h.Listed), maxListedText)]
	if len(shown) > 0 {
		fmt.Fprintln(w, "records without a hash, hash lines without a record:")
	}
	for _, l := range shown {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if listed := h.Counts.Listed(); listed > len(shown) && len(shown) > 0 {
		fmt.Fprintf(w, "  … and %d more (--output json lists the first %d)\n", listed-len(shown), run.MaxListedProblems)
	}
}

// maxListedText bounds the join's listing in a plan's text.
const maxListedText = 20
