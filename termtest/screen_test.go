package termtest

import "strings"

// screen is the little of a terminal the display relies on: text wraps at
// the last column (xterm's pending wrap), "\r" returns to the line's start,
// "\n" goes down a line, ESC[K erases to the end of the line; other escape
// sequences are skipped. It shows what a person would see.
type screen struct {
	cols    int
	rows    [][]rune
	r, c    int
	pending bool // the last column is written: the next character wraps
	maxRow  int  // the lowest row ever written or moved to
}

func newScreen(cols int) *screen { return &screen{cols: cols} }

func (s *screen) row() []rune {
	for len(s.rows) <= s.r {
		s.rows = append(s.rows, nil)
	}
	s.maxRow = max(s.maxRow, s.r)
	return s.rows[s.r]
}

func (s *screen) write(out string) {
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		switch ch := rs[i]; {
		case ch == '\r':
			s.c, s.pending = 0, false
		case ch == '\n':
			s.r, s.pending = s.r+1, false
			s.row()
		case ch == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) && rs[j] == 'K' {
				row := s.row()
				if s.c < len(row) {
					s.rows[s.r] = row[:s.c]
				}
			}
			i = j
		case ch < ' ':
		default:
			if s.pending {
				s.r, s.c, s.pending = s.r+1, 0, false
			}
			row := s.row()
			for len(row) <= s.c {
				row = append(row, ' ')
			}
			row[s.c] = ch
			s.rows[s.r] = row
			if s.c == s.cols-1 {
				s.pending = true
			} else {
				s.c++
			}
		}
	}
}

// text is the screen's rows, trailing blanks trimmed.
func (s *screen) text() []string {
	var lines []string
	for _, r := range s.rows {
		lines = append(lines, strings.TrimRight(string(r), " "))
	}
	return lines
}
