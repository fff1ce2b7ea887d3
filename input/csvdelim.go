package input

import (
	"bufio"
	"bytes"
	"encoding/csv"
)

// delimiters are those detected, in order of preference on a tie (a header
// of one column splits the same way at any of them).
var delimiters = []byte{',', ';', '\t'}

// detectDelimiter picks the delimiter that splits the header line into the
// most known columns: a European spreadsheet exports "email;given_name",
// a database tool "email<TAB>given_name". It peeks at the first line
// without consuming it; a header past the buffer is split at commas.
func detectDelimiter(br *bufio.Reader, o Options) byte {
	line := peekLine(br)
	best, bestN := delimiters[0], 0
	for _, d := range delimiters {
		cr := csv.NewReader(bytes.NewReader(line))
		cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = rune(d), true, -1
		header, err := cr.Read()
		if err != nil {
			continue
		}
		if n := knownColumns(header, o); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// peekLine returns the start of br up to its first newline (or all that
// fits in its buffer), without consuming it.
func peekLine(br *bufio.Reader) []byte {
	for n := 512; ; n *= 2 {
		n = min(n, br.Size())
		b, err := br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return b[:i]
		}
		if err != nil || n == br.Size() {
			return b
		}
	}
}
