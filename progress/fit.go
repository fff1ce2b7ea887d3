package progress

import (
	"strings"
	"unicode/utf8"
)

// A line is laid out to fit the terminal: each piece of it (an item) has
// renditions from long to short. The line starts with every item at its
// longest; while it is too wide, steps taken in a fixed order (what a
// person misses least goes first) shorten or drop one item each. A bar, if
// any, is a quarter of the terminal (10 to 30 cells) however the text
// around it changes, so that it does not jump from one redraw to the next. The line never reaches the last column, so that
// no terminal wraps it and "\r" always returns to its start: that is what
// keeps every redraw on one line.

// item is one piece of a progress line.
type item struct {
	kind     string   // what steps name it by
	sep      string   // what stands before it: " " or " · "
	variants []string // its renditions, longest first
	// cut, when set, renders it in any room of at least its last
	// variant's width (a wait's reason is cut short with "…").
	cut func(room int) string
	bar bool    // a bar of fraction of
	of  float64 // the bar's fraction, 0..1
}

const barMin, barMax = 10, 30

// step shortens (to its next variant) or drops the item of a kind; "cut"
// fits an item with a cut into the room left.
type step struct{ kind, op string }

// layout joins label and items (in the order they show) into a line of at
// most cols-1 columns, degrading it by steps until it fits.
func layout(label string, items []item, steps []step, cols int) string {
	budget := cols - 1
	text := make([]string, len(items))
	pick := make([]int, len(items)) // variant index, -1: dropped
	for i, it := range items {
		if it.bar {
			text[i] = drawBar(it.of, max(barMin, min(barMax, cols/4)))
		} else {
			text[i] = it.variants[0]
		}
	}
	line := func() string {
		var b strings.Builder
		b.WriteString(label)
		for i, it := range items {
			if pick[i] >= 0 {
				b.WriteString(it.sep)
				b.WriteString(text[i])
			}
		}
		return b.String()
	}
	for _, st := range steps {
		if width(line()) <= budget {
			break
		}
		for i, it := range items {
			if it.kind != st.kind || pick[i] < 0 {
				continue
			}
			switch {
			case st.op == "drop":
				pick[i] = -1
			case st.op == "cut" && it.cut != nil:
				room := budget - (width(line()) - width(text[i]))
				text[i] = it.cut(room)
			case st.op == "shorten" && !it.bar && pick[i] < len(it.variants)-1:
				pick[i]++
				text[i] = it.variants[pick[i]]
			}
		}
	}
	return truncate(line(), budget)
}

// plainLine is every item at full length, without a bar: for log files.
func plainLine(label string, items []item) string {
	var b strings.Builder
	b.WriteString(label)
	for _, it := range items {
		if !it.bar {
			b.WriteString(it.sep)
			b.WriteString(it.variants[0])
		}
	}
	return b.String()
}

func drawBar(fraction float64, cells int) string {
	full := max(0, min(int(fraction*float64(cells)), cells))
	return strings.Repeat("█", full) + strings.Repeat("░", cells-full)
}

// width is how many columns s takes: every character a0bulk draws is one
// column wide.
func width(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to at most n columns, ending it with "…" when cut.
func truncate(s string, n int) string {
	if width(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
