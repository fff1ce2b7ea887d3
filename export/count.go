package export

import "github.com/a0bulk/a0bulk/management"

// counter counts the users of an export file as it passes: json is NDJSON,
// a user a line; csv a header row, then a user a record, whose quoted
// strings may hold line breaks (Auth0 quotes every string).
type counter struct {
	csv     bool
	quoted  bool // inside a quoted CSV field
	records int  // line ends outside quotes
	last    byte
}

func newCounter(format string) *counter { return &counter{csv: format == management.ExportCSV} }

func (c *counter) Write(p []byte) (int, error) {
	for _, b := range p {
		switch {
		case b == '"' && c.csv:
			// A doubled quote inside a field toggles twice: no change.
			c.quoted = !c.quoted
		case b == '\n' && !c.quoted:
			c.records++
		}
	}
	if len(p) > 0 {
		c.last = p[len(p)-1]
	}
	return len(p), nil
}

// users is the count: records, one more for a last line without its line
// break, less the header row in csv.
func (c *counter) users() int {
	n := c.records
	if c.last != 0 && c.last != '\n' {
		n++
	}
	if c.csv && n > 0 {
		n-- // the header
	}
	return n
}
